import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A cluster as listed (CONTRACT §2 fields; other components' fields pass through). */
export class ClusterSummaryView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiPropertyOptional({ description: 'Its project (KEY_LAYOUT=project only).' })
  project_id?: string;
  @ApiProperty() title!: string;
  @ApiProperty() summary!: string;
  @ApiProperty() issue_title!: string;
  @ApiProperty() issue_description!: string;
  @ApiPropertyOptional() github_repo_url?: string;
  @ApiProperty({ description: '`new` when created; other values belong to the dashboard.' })
  status!: string;
  @ApiProperty() size!: number;
  @ApiProperty({ type: [String] }) sources!: string[];
  @ApiProperty() embedding_model!: string;
  @ApiPropertyOptional({
    description: 'Which summarizer wrote the current text: `extractive` or `gemini:{model}`.',
  })
  summary_model?: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class ClusterPageView {
  @ApiProperty({ type: [ClusterSummaryView] }) items!: ClusterSummaryView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export class ClusterDetailView extends ClusterSummaryView {
  @ApiProperty({ type: [Number], description: 'Mean item embedding.' }) centroid!: number[];
  @ApiProperty({
    description: 'Items of the cluster, newest first: feedback hashes with `metadata` parsed.',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
  })
  feedback!: Record<string, unknown>[];
  @ApiProperty({ type: String, nullable: true }) feedback_next_cursor!: string | null;
  @ApiPropertyOptional({
    description: 'The merged id asked for, when it answered with its survivor.',
  })
  redirected_from?: string;
}
