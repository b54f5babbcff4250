import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsIn, IsOptional } from 'class-validator';
import { ClusterSort } from '../../clusters/cluster-reader';
import { CLUSTER_SORTS, ListClustersQuery } from '../../clusters/dto/list-clusters.query';

export class TrendingClustersQuery extends ListClustersQuery {
  @ApiPropertyOptional({ enum: CLUSTER_SORTS, default: 'trending' })
  @IsOptional()
  @IsIn(CLUSTER_SORTS)
  override sort: ClusterSort = 'trending';

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Only clusters created at or after this instant (ISO 8601).',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  new_since?: string;
}
