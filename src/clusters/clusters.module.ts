import { Module } from '@nestjs/common';
import { ClusterReader } from './cluster-reader';
import { ClustersController } from './clusters.controller';
import { TrendsModule } from '../trends/trends.module';

/** Read access to clusters over HTTP (CONTRACT §5). */
@Module({
  imports: [TrendsModule],
  controllers: [ClustersController],
  providers: [ClusterReader],
  exports: [ClusterReader],
})
export class ClustersModule {}
