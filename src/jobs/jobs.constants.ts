import { SharedKeys } from '../redis/keyspace';

/** Names and options of job dispatch, in one place. */

/** Stream that hands jobs to whichever replica reads them first (shared by all projects). */
export const JOB_STREAM = SharedKeys.jobStream;
/** The job stream's consumer group; separate from the feedback consumers' group. */
export const JOB_CONSUMER_GROUP = 'clustering-jobs';
/** Longest blocking read on the job stream, so a stop request is noticed promptly. */
export const JOB_STREAM_BLOCK_MS = 1000;
/** Approximate cap on the job stream; handled entries are deleted anyway. */
export const JOB_STREAM_MAX_LEN = 10_000;
/** Pause after an unexpected error in the dispatch loop. */
export const JOB_ERROR_BACKOFF_MS = 1000;

/** Ids read per SSCAN call when a job walks `feedback:unclustered`. */
export const UNCLUSTERED_SCAN_COUNT = 500;

/** Paging of `GET /cluster-jobs`. */
export const JOB_PAGE_DEFAULT = 20;
export const JOB_PAGE_MAX = 100;

/** How long an on-demand full job waits for a running sweep to finish before failing. */
export const SWEEP_LOCK_WAIT_MS = 60_000;
