import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsPageCursor } from '../../http/page-cursor';
import { ProjectQuery } from '../../http/project-query';
import { JOB_PAGE_DEFAULT, JOB_PAGE_MAX } from '../jobs.constants';

export class ListClusterJobsQuery extends ProjectQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: JOB_PAGE_MAX, default: JOB_PAGE_DEFAULT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(JOB_PAGE_MAX)
  limit: number = JOB_PAGE_DEFAULT;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page.' })
  @IsOptional()
  @IsPageCursor()
  cursor?: string;
}
