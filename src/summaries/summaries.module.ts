import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { PipelineModule } from '../pipeline/pipeline.module';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { Keyspace } from '../redis/keyspace';
import { SummaryQueue } from './summary-queue';

/** The summary queue, shared by the pipeline's sweeps and the worker. */
@Module({
  imports: [PipelineModule],
  providers: [
    {
      provide: SummaryQueue,
      inject: [REDIS, KEYSPACE, Environment],
      useFactory: (redis: Redis, keys: Keyspace, env: Environment) =>
        new SummaryQueue(redis, keys, env.SUMMARY_CLAIM_MS, env.RESUMMARIZE_GROWTH),
    },
  ],
  exports: [SummaryQueue],
})
export class SummariesModule {}
