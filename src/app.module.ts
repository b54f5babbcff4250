import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AlertsModule } from './alerts/alerts.module';
import { ClustersModule } from './clusters/clusters.module';
import { ControlModule } from './control/control.module';
import { CoreModule } from './core.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { OperationsModule } from './operations/operations.module';
import { StreamModule } from './stream/stream.module';
import { SummaryWorkerModule } from './summaries/summary-worker.module';
import { SweepSchedulerModule } from './jobs/sweep-scheduler.module';
import { TrendsHttpModule } from './trends/trends-http.module';
import { UiModule } from './ui/ui.module';

/** The service: HTTP interface, stream consumers, job dispatch, scheduled sweeps and
 * the summary queue's worker. */
@Module({
  imports: [
    ScheduleModule.forRoot(),
    StreamModule,
    HealthModule,
    JobsModule,
    SweepSchedulerModule,
    SummaryWorkerModule,
    ClustersModule,
    OperationsModule,
    UiModule,
    ControlModule,
    TrendsHttpModule,
    AlertsModule,
  ],
})
export class AppModule {
  /** Created when the application is: the key layout comes from the environment then. */
  static forRoot(): DynamicModule {
    return { module: AppModule, imports: [CoreModule.forRoot()] };
  }
}
