import { Module } from '@nestjs/common';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { JobRunnerModule } from './job-runner.module';
import { JobsController } from './jobs.controller';
import { ClusterJobsProcessor } from './jobs.processor';

/** Clustering jobs over HTTP, dispatched through the job stream to any replica. */
@Module({
  imports: [JobRunnerModule],
  controllers: [JobsController],
  providers: [ClusterJobsProcessor, BearerTokenGuard],
})
export class JobsModule {}
