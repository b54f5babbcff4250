import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';

/** Cluster and feedback ids as the service and producers write them (no key separators). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ID_MESSAGE = 'must be a cluster or feedback id (letters, digits, `.`, `_`, `-`)';
/** Items one split may take out of a cluster (one script call, one hold of the lock). */
export const MAX_SPLIT_ITEMS = 1000;

export class MergeClusterDto {
  @ApiProperty({ description: 'The cluster that absorbs this one (it keeps its id).' })
  @IsString()
  @Matches(ID_PATTERN, { message: `into ${ID_MESSAGE}` })
  into!: string;
}

export class SplitClusterDto {
  @ApiProperty({
    type: [String],
    description: `Members that leave into a new cluster (1 to ${MAX_SPLIT_ITEMS}; at least one member stays).`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SPLIT_ITEMS)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(ID_PATTERN, { each: true, message: `each of item_ids ${ID_MESSAGE}` })
  item_ids!: string[];
}

export class MoveFeedbackDto {
  @ApiProperty({ description: 'The live cluster the item moves to.' })
  @IsString()
  @Matches(ID_PATTERN, { message: `cluster_id ${ID_MESSAGE}` })
  cluster_id!: string;
}

const AUDIT_PAGE_MAX = 500;

export class ListAuditQuery {
  @ApiPropertyOptional({ description: 'The project (KEY_LAYOUT=project).' })
  @IsOptional()
  @IsString()
  project_id?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: AUDIT_PAGE_MAX, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(AUDIT_PAGE_MAX)
  limit: number = 50;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous answer.' })
  @IsOptional()
  @Matches(/^\d+-\d+$/, { message: 'cursor must be the next_cursor of a previous answer' })
  cursor?: string;
}

/** A person's action as recorded (`clustering:audit`, newest first). */
export class AuditRecordView {
  @ApiProperty({ description: 'Stream entry id (time-ordered).' }) id!: string;
  @ApiProperty({ enum: ['merge', 'split', 'move'] }) action!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ description: 'The cluster the items are in afterwards.' }) cluster_id!: string;
  @ApiProperty({ description: 'The cluster they came from.' }) from_cluster_id!: string;
  @ApiProperty({ description: 'How many items changed cluster.' }) moved_items!: number;
  @ApiPropertyOptional({ type: [String], description: 'The items (split and move).' })
  item_ids?: string[];
}

export class AuditPageView {
  @ApiProperty({ type: [AuditRecordView] }) items!: AuditRecordView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export class ControlOutcomeView extends AuditRecordView {}
