import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, MaxLength, ValidateBy } from 'class-validator';
import { JOB_MODES, JobMode } from '../job-data';

/** As producers write `source` (CONTRACT §1): one lowercase word. */
const SOURCE_WORD = /^[a-z][a-z0-9_-]{0,63}$/;
const MAX_SOURCES = 20;

function isSourceFilter(value: unknown): boolean {
  const words = Array.isArray(value) ? (value as unknown[]) : [value];
  return (
    words.length >= 1 &&
    words.length <= MAX_SOURCES &&
    words.every((w) => typeof w === 'string' && SOURCE_WORD.test(w))
  );
}

/** Body of `POST /cluster-jobs` and `POST /clusters/run` (CONTRACT §5). */
export class CreateClusterJobDto {
  @ApiPropertyOptional({
    description: `Only items of this source or these sources (lowercase words, at most ${MAX_SOURCES}).`,
    oneOf: [
      { type: 'string', example: 'reddit' },
      { type: 'array', items: { type: 'string' }, example: ['reddit', 'sentry'] },
    ],
  })
  @IsOptional()
  @ValidateBy({
    name: 'isSourceFilter',
    validator: {
      validate: isSourceFilter,
      defaultMessage: () =>
        `source must be a lowercase word (e.g. reddit) or an array of 1 to ${MAX_SOURCES} of them`,
    },
  })
  source?: string | string[];

  @ApiPropertyOptional({
    description: 'Only items created at or after this time (ISO 8601).',
    example: '2024-05-01T00:00:00Z',
  })
  @IsOptional()
  @MaxLength(64)
  @IsISO8601(
    { strict: true },
    { message: 'since must be an ISO 8601 date, e.g. 2024-05-01T00:00:00Z' },
  )
  since?: string;

  @ApiPropertyOptional({
    enum: JOB_MODES,
    default: 'incremental',
    description:
      '`incremental` clusters what is unclustered; `full` also runs the sweep: merges, moves, stale summaries.',
  })
  @IsOptional()
  @IsIn(JOB_MODES)
  mode?: JobMode;
}
