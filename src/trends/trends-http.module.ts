import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { TrendsModule } from './trends.module';
import { TrendsController } from './trends.controller';

/** The trend routes (`/trends/clusters`). */
@Module({ imports: [ClustersModule, TrendsModule], controllers: [TrendsController] })
export class TrendsHttpModule {}
