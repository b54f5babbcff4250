import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  JOB_MODES,
  JOB_STATUSES,
  JOB_TRIGGERS,
  JobFilters,
  JobMode,
  JobStats,
  JobStatus,
  JobTrigger,
} from '../job-data';

/** The job JSON of the HTTP interface (CONTRACT §4-§5), for the OpenAPI document. */
export class ClusterJobView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiPropertyOptional({ description: 'Its project (KEY_LAYOUT=project only).' })
  project_id?: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: JobStatus;
  @ApiProperty({ enum: JOB_TRIGGERS }) trigger!: JobTrigger;
  @ApiProperty({ enum: JOB_MODES }) mode!: JobMode;
  @ApiProperty({ example: { source: 'reddit' } }) filters!: JobFilters;
  @ApiProperty({
    example: {
      clustered_count: 12,
      new_clusters: 2,
      updated_clusters: 3,
      failed_embeddings: 0,
      missing_feedback: 0,
      parked: 0,
      skipped: 0,
      merged_clusters: 0,
      absorbed_clusters: 0,
      moved_items: 0,
      refreshed_summaries: 0,
      duration_ms: 420,
    },
  })
  stats!: JobStats;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiPropertyOptional({ format: 'date-time' }) started_at?: string;
  @ApiPropertyOptional({ format: 'date-time' }) finished_at?: string;
  @ApiPropertyOptional() error?: string;
  @ApiProperty({ description: 'Starts so far; more than 1 after a replica died mid-job.' })
  attempts!: number;
}

export class ClusterJobPageView {
  @ApiProperty({ type: [ClusterJobView] }) items!: ClusterJobView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}
