import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ClusterSort } from '../../clusters/cluster-reader';
import { CLUSTER_SORTS, ListClustersQuery } from '../../clusters/dto/list-clusters.query';

export class TrendingClustersQuery extends ListClustersQuery {
  @ApiPropertyOptional({ enum: CLUSTER_SORTS, default: 'trending' })
  @IsOptional()
  @IsIn(CLUSTER_SORTS)
  override sort: ClusterSort = 'trending';
}
