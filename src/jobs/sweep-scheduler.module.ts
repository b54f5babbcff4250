import { Module } from '@nestjs/common';
import { JobRunnerModule } from './job-runner.module';
import { SweepScheduler } from './sweep.scheduler';

/** Scheduled full sweeps; needs `ScheduleModule.forRoot()` in the application. */
@Module({
  imports: [JobRunnerModule],
  providers: [SweepScheduler],
})
export class SweepSchedulerModule {}
