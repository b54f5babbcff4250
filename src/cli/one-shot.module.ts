import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '../core.module';
import { JobRunnerModule } from '../jobs/job-runner.module';

/** One-shot mode: runs one job; no HTTP server, no stream consumers, no schedule. */
@Module({ imports: [JobRunnerModule] })
export class OneShotModule {
  static forRoot(): DynamicModule {
    return { module: OneShotModule, imports: [CoreModule.forRoot()] };
  }
}
