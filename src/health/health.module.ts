import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { StreamModule } from '../stream/stream.module';
import { HealthController } from './health.controller';
import { RedisHealthIndicator } from './redis.health';
import { StreamLagHealthIndicator } from './stream-lag.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), StreamModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, StreamLagHealthIndicator],
})
export class HealthModule {}
