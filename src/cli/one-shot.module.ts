import { Module } from '@nestjs/common';
import { CoreModule } from '../core.module';
import { JobRunnerModule } from '../jobs/job-runner.module';

/** One-shot mode: runs one job; no HTTP server, no stream consumers, no schedule. */
@Module({ imports: [CoreModule, JobRunnerModule] })
export class OneShotModule {}
