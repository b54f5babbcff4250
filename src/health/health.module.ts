import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ProvidersModule } from '../providers/providers.module';
import { HealthController } from './health.controller';
import { ProvidersHealthIndicator } from './providers.health';
import { RedisHealthIndicator } from './redis.health';
import { StreamLagHealthIndicator } from './stream-lag.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ProvidersModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, StreamLagHealthIndicator, ProvidersHealthIndicator],
})
export class HealthModule {}
