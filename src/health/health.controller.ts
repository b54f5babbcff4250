import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ProvidersHealthIndicator } from './providers.health';
import { RedisHealthIndicator } from './redis.health';
import { StreamLagHealthIndicator } from './stream-lag.health';

/** ECS probes (CONTRACT §5). */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly streamLag: StreamLagHealthIndicator,
    private readonly providers: ProvidersHealthIndicator,
  ) {}

  /** The process is up; no dependency is asked, so a Redis outage does not restart tasks. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.redis.redisAnswers(),
      () => this.redis.consumerGroupExists(),
      () => this.streamLag.streamLag(),
      () => this.providers.embedderReady(),
      () => this.providers.vectorIndexReady(),
      () => this.providers.summarizerReady(),
    ]);
  }
}
