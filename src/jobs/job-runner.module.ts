import { Module } from '@nestjs/common';
import { UnannouncedItems } from '../feedback/unannounced-items';
import { PipelineModule } from '../pipeline/pipeline.module';
import { SweepModule } from '../sweep/sweep.module';
import { ClusterJobRepository } from './cluster-job.repository';
import { ClusterJobRunner } from './cluster-job.runner';
import { ClusterJobsProducer } from './jobs.producer';
import { UnclusteredPass } from './unclustered-pass';

/** Creating and running jobs, without receiving them: shared by the service and one-shot mode. */
@Module({
  imports: [PipelineModule, SweepModule],
  providers: [
    ClusterJobRepository,
    UnannouncedItems,
    UnclusteredPass,
    ClusterJobRunner,
    ClusterJobsProducer,
  ],
  exports: [ClusterJobRepository, ClusterJobRunner, ClusterJobsProducer, SweepModule],
})
export class JobRunnerModule {}
