import { randomUUID } from 'node:crypto';
import { BatchStats, emptyStats } from '../pipeline/batch-stats';

export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const JOB_TRIGGERS = ['api', 'schedule', 'cli'] as const;
export type JobTrigger = (typeof JOB_TRIGGERS)[number];

export const JOB_MODES = ['incremental', 'full'] as const;
export type JobMode = (typeof JOB_MODES)[number];

/** The filters a job was created with (CONTRACT §4 `filters`), stored as given. */
export interface JobFilters {
  source?: string | string[];
  since?: string;
}

/** CONTRACT §4 `stats`: the pipeline's counts summed over the job, plus the sweep's work. */
export interface JobStats extends BatchStats {
  merged_clusters: number;
  /** Small clusters a sweep absorbed into a larger neighbour. */
  absorbed_clusters: number;
  moved_items: number;
  refreshed_summaries: number;
  /** Finished job records older than JOB_RETENTION_DAYS that the sweep removed. */
  pruned_jobs: number;
  duration_ms: number;
}

/**
 * One `cluster_job:{id}` hash (`cluster_job:{pid}:{id}` in the project layout), parsed; also
 * the job JSON of the HTTP interface.
 */
export interface ClusterJob {
  id: string;
  /** The job's project (KEY_LAYOUT=project only): it clusters that project's items alone. */
  project_id?: string;
  status: JobStatus;
  trigger: JobTrigger;
  mode: JobMode;
  filters: JobFilters;
  stats: JobStats;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  error?: string;
  /** How many times a replica started the job (more than one after a replica died). */
  attempts: number;
}

/** What a new job needs; the rest is filled in when it is created. */
export interface JobRequest {
  trigger: JobTrigger;
  mode: JobMode;
  filters: JobFilters;
}

/**
 * The message on the job stream: the job's id, and in the project layout its project (the
 * stream is shared, the record is per project); the record in Redis is the truth.
 */
export interface JobMessage {
  job_id: string;
  project_id?: string;
}

/** The stream entry's fields of `message`, as XADD takes them. */
export function jobMessageFields(message: JobMessage): string[] {
  const fields = ['job_id', message.job_id];
  if (message.project_id !== undefined) fields.push('project_id', message.project_id);
  return fields;
}

export function emptyJobStats(): JobStats {
  return {
    ...emptyStats(),
    merged_clusters: 0,
    absorbed_clusters: 0,
    moved_items: 0,
    refreshed_summaries: 0,
    pruned_jobs: 0,
    duration_ms: 0,
  };
}

/** A new job record, `pending`, created now. */
export function newClusterJob(request: JobRequest, id: string = randomUUID()): ClusterJob {
  return {
    id,
    status: 'pending',
    trigger: request.trigger,
    mode: request.mode,
    filters: request.filters,
    stats: emptyJobStats(),
    created_at: new Date().toISOString(),
    attempts: 0,
  };
}
