import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { PipelineModule } from '../pipeline/pipeline.module';
import { REDIS } from '../redis/redis.module';
import { SummaryQueue } from './summary-queue';

/** The summary queue, shared by the pipeline's sweeps and the worker. */
@Module({
  imports: [PipelineModule],
  providers: [
    {
      provide: SummaryQueue,
      inject: [REDIS, Environment],
      useFactory: (redis: Redis, env: Environment) =>
        new SummaryQueue(redis, env.SUMMARY_CLAIM_MS, env.RESUMMARIZE_GROWTH),
    },
  ],
  exports: [SummaryQueue],
})
export class SummariesModule {}
