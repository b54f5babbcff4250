import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import Redis from 'ioredis';
import { StreamBacklog } from '../metrics/stream-backlog';
import { REDIS } from '../redis/redis.module';
import { withTimeout } from './timeout';

const PING_TIMEOUT_MS = 1000;

/**
 * Readiness facts: Redis answers, and the consumer group exists on `feedback:events`. The
 * stream and its group are the deployment's, whatever the key layout: they are read through
 * the shared backlog reader, not through a project's consumer.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly backlog: StreamBacklog,
    private readonly health: HealthIndicatorService,
  ) {}

  async redisAnswers(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('redis');
    try {
      await withTimeout(this.redis.ping(), PING_TIMEOUT_MS);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }

  async consumerGroupExists(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('consumer_group');
    const { stream, group } = this.backlog;
    const exists = await withTimeout(this.backlog.read(), PING_TIMEOUT_MS).then(
      (backlog) => backlog !== undefined,
      () => false,
    );
    return exists
      ? indicator.up({ stream, group })
      : indicator.down({ stream, group, message: 'group missing' });
  }
}
