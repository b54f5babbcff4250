import { Module } from '@nestjs/common';
import { PipelineModule } from '../pipeline/pipeline.module';
import { SummariesModule } from './summaries.module';
import { SummaryWorkerService } from './summary-worker.service';

/** The summary queue's worker (not loaded in one-shot mode: other replicas work the queue). */
@Module({ imports: [PipelineModule, SummariesModule], providers: [SummaryWorkerService] })
export class SummaryWorkerModule {}
