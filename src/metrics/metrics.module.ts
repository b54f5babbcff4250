import { Global, Module } from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { SharedKeys } from '../redis/keyspace';
import { REDIS } from '../redis/redis.module';
import { ClusteringMetrics } from './clustering-metrics';
import { MetricsController } from './metrics.controller';
import { StreamBacklog } from './stream-backlog';

/** Prometheus metrics at `/metrics`; the recorder is global so every component can report. */
@Global()
@Module({
  providers: [
    {
      provide: StreamBacklog,
      inject: [REDIS, Environment],
      useFactory: (redis: Redis, env: Environment) =>
        new StreamBacklog(redis, SharedKeys.events, env.CONSUMER_GROUP),
    },
    {
      provide: ClusteringMetrics,
      inject: [StreamBacklog],
      useFactory: (backlog: StreamBacklog) => new ClusteringMetrics(backlog),
    },
  ],
  controllers: [MetricsController],
  exports: [ClusteringMetrics, StreamBacklog],
})
export class MetricsModule {}
