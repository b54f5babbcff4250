import { Module } from '@nestjs/common';
import { ClusterReader } from './cluster-reader';
import { ClustersController } from './clusters.controller';

/** Read access to clusters over HTTP (CONTRACT §5). */
@Module({
  controllers: [ClustersController],
  providers: [ClusterReader],
})
export class ClustersModule {}
