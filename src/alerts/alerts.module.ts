import { Module } from '@nestjs/common';
import { TrendsModule } from '../trends/trends.module';
import { AlertOutbox } from './alert-outbox';
import { AlertWorkerService } from './alert-worker.service';

/** Webhook alerts (README, "Alerts"): detection and delivery in the background. */
@Module({ imports: [TrendsModule], providers: [AlertOutbox, AlertWorkerService] })
export class AlertsModule {}
