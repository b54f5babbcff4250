import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';
import { StreamConsumerService } from '../stream/stream-consumer.service';

const PING_TIMEOUT_MS = 1000;

/** Readiness facts: Redis answers, and the consumer group exists on `feedback:events`. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly consumer: StreamConsumerService,
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
    const { stream } = this.consumer;
    const exists = await withTimeout(stream.groupExists(), PING_TIMEOUT_MS).catch(() => false);
    return exists
      ? indicator.up({ stream: stream.key, group: stream.group })
      : indicator.down({ stream: stream.key, group: stream.group, message: 'group missing' });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
