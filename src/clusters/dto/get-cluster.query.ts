import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsPageCursor } from '../../http/page-cursor';
import { ProjectQuery } from '../../http/project-query';

const FEEDBACK_PAGE_MAX = 200;

export class GetClusterQuery extends ProjectQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: FEEDBACK_PAGE_MAX, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(FEEDBACK_PAGE_MAX)
  feedback_limit: number = 50;

  @ApiPropertyOptional({ description: '`feedback_next_cursor` of the previous answer.' })
  @IsOptional()
  @IsPageCursor()
  feedback_cursor?: string;
}
