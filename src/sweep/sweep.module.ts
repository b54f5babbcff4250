import { Module } from '@nestjs/common';
import { PipelineModule } from '../pipeline/pipeline.module';
import { SummariesModule } from '../summaries/summaries.module';
import { ClusterMaintenance } from './cluster-maintenance';
import { ClusterMerger } from './cluster-merger';
import { ItemMover } from './item-mover';
import { KeyPruner } from './key-pruner';
import { SweepLock } from './sweep-lock';

/** The maintenance a full sweep does, and the lock that lets one sweep run at a time. */
@Module({
  imports: [PipelineModule, SummariesModule],
  providers: [ClusterMerger, ItemMover, KeyPruner, ClusterMaintenance, SweepLock],
  exports: [ClusterMaintenance, SweepLock],
})
export class SweepModule {}
