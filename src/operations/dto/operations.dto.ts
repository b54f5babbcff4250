import { ProjectQuery } from '../../http/project-query';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsPageCursor } from '../../http/page-cursor';

export const OPERATIONS_PAGE_DEFAULT = 20;
export const OPERATIONS_PAGE_MAX = 100;
/** Most ids one replay names; without ids, everything is replayed. */
export const REPLAY_MAX_IDS = 1000;
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** `?project_id=`: required in the project layout (ProjectContexts says so), ignored in the flat one. */
class PageQuery extends ProjectQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: OPERATIONS_PAGE_MAX,
    default: OPERATIONS_PAGE_DEFAULT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(OPERATIONS_PAGE_MAX)
  limit: number = OPERATIONS_PAGE_DEFAULT;
}

export class ListDeadLettersQuery extends PageQuery {
  @ApiPropertyOptional({ description: '`next_cursor` of the previous page.' })
  @IsOptional()
  @Matches(STREAM_ID, { message: 'cursor must be the next_cursor of a previous page' })
  cursor?: string;
}

export class ListParkedItemsQuery extends PageQuery {
  @ApiPropertyOptional({ description: '`next_cursor` of the previous page.' })
  @IsOptional()
  @IsPageCursor()
  cursor?: string;
}

export class ReplayDeadLettersDto {
  @ApiPropertyOptional({
    description: 'Dead-letter ids (the `id` of GET /dead-letters); all of them when left out.',
    type: [String],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(REPLAY_MAX_IDS)
  @Matches(STREAM_ID, { each: true, message: 'each of ids must be a dead-letter id' })
  ids?: string[];
}

export class ReplayParkedItemsDto {
  @ApiPropertyOptional({
    description: 'Feedback ids of parked items; all of them when left out.',
    type: [String],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(REPLAY_MAX_IDS)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  ids?: string[];
}
