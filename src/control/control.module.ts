import { Module } from '@nestjs/common';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { PipelineModule } from '../pipeline/pipeline.module';
import { AuditLog } from './audit-log';
import { ClusterControl } from './cluster-control';
import { ControlController } from './control.controller';

/** Human control over HTTP: merge, split, move, and their audit trail. */
@Module({
  imports: [PipelineModule],
  controllers: [ControlController],
  providers: [ClusterControl, AuditLog, BearerTokenGuard],
})
export class ControlModule {}
