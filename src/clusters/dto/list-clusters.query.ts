import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import { IsPageCursor } from '../../http/page-cursor';
import { ProjectQuery } from '../../http/project-query';
import { ClusterSort } from '../cluster-reader';

export const CLUSTER_SORTS: readonly ClusterSort[] = ['size', 'recent', 'trending'];
const CLUSTER_PAGE_MAX = 100;

export class ListClustersQuery extends ProjectQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: CLUSTER_PAGE_MAX, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(CLUSTER_PAGE_MAX)
  limit: number = 20;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page.' })
  @IsOptional()
  @IsPageCursor()
  cursor?: string;

  @ApiPropertyOptional({
    enum: CLUSTER_SORTS,
    default: 'size',
    description:
      '`size`: largest first; `recent`: most recently updated first; `trending`: highest trend_score first (README, "Trends").',
  })
  @IsOptional()
  @IsIn(CLUSTER_SORTS)
  sort: ClusterSort = 'size';

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Only clusters created at or after this instant (ISO 8601).',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  new_since?: string;

  /** `new_since` in epoch ms, or undefined. */
  newSinceMs(): number | undefined {
    return this.new_since === undefined ? undefined : Date.parse(this.new_since);
  }
}
