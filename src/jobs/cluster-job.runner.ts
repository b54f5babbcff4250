import { Injectable, Logger } from '@nestjs/common';
import { Environment } from '../config/environment';
import { withLogContext } from '../logging/log-context';
import { ClusteringMetrics } from '../metrics/clustering-metrics';
import { BatchStats } from '../pipeline/batch-stats';
import { ClusterMaintenance } from '../sweep/cluster-maintenance';
import { SweepLock } from '../sweep/sweep-lock';
import { ClusterJobRepository } from './cluster-job.repository';
import { ClusterJob, emptyJobStats, JobStats } from './job-data';
import { SWEEP_LOCK_WAIT_MS } from './jobs.constants';
import { UnclusteredPass } from './unclustered-pass';

/** Raised for a job id with no record. */
export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
}

/** Raised inside a run whose job another owner took over: this run stops, that one goes on. */
export class JobTakenOverError extends Error {
  override name = 'JobTakenOverError';
}

/** Raised when an on-demand full job could not start because a sweep kept running. */
export class SweepBusyError extends Error {
  override name = 'SweepBusyError';
}

export interface RunOptions {
  /** Which start of the job this is (1 = first); defaults to one more than recorded. */
  attempt?: number;
  /** Aborted to stop the job between chunks (one-shot mode on SIGTERM); its reason is the error. */
  signal?: AbortSignal;
}

/**
 * Runs one clustering job and keeps its record up to date: `running` with its progress, then
 * `succeeded` or `failed` with the error. Incremental: the unclustered pass. Full: the pass
 * and the sweep's maintenance, under the sweep lock. Every log line of the job carries its id.
 */
/** Old job records removed per sweep at most, so a large backlog never makes a sweep slow. */
const JOB_PRUNE_LIMIT = 1000;

@Injectable()
export class ClusterJobRunner {
  private readonly logger = new Logger(ClusterJobRunner.name);

  constructor(
    private readonly jobs: ClusterJobRepository,
    private readonly pass: UnclusteredPass,
    private readonly maintenance: ClusterMaintenance,
    private readonly sweepLock: SweepLock,
    private readonly metrics: ClusteringMetrics,
    private readonly env: Environment,
  ) {}

  async run(jobId: string, options: RunOptions = {}): Promise<ClusterJob> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new JobNotFoundError(`no job ${jobId}`);
    const context: Record<string, string> = { job_id: job.id };
    if (job.project_id !== undefined) context.project_id = job.project_id;
    await withLogContext(context, () => this.execute(job, options));
    return (await this.jobs.get(jobId)) ?? job;
  }

  private async execute(job: ClusterJob, options: RunOptions): Promise<void> {
    const attempt = options.attempt ?? job.attempts + 1;
    const owner = await this.jobs.claim(job.id, attempt);
    if (!owner) {
      this.logger.log({ msg: 'job already finished; not run again', attempt });
      return;
    }
    this.logger.log({
      msg: 'job started',
      trigger: job.trigger,
      mode: job.mode,
      filters: job.filters,
      attempt,
    });
    // Between progress writes too, so that a silent owner is known dead (see redispatchSilent).
    const heartbeat = setInterval(
      () => {
        this.jobs.heartbeat(job.id, owner).catch((error: unknown) => {
          this.logger.warn({ msg: 'job heartbeat failed', err: error });
        });
      },
      Math.max(250, Math.floor(this.env.JOB_CLAIM_IDLE_MS / 3)),
    );
    heartbeat.unref();
    try {
      await this.runOwned(job, owner, options);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async runOwned(job: ClusterJob, owner: string, options: RunOptions): Promise<void> {
    const started = Date.now();
    let stats = emptyJobStats();
    const progress = async (totals: BatchStats) => {
      stats = { ...stats, ...totals, duration_ms: Date.now() - started };
      if (!(await this.jobs.saveStats(job.id, owner, stats))) {
        throw new JobTakenOverError('another replica took the job over; this run stops');
      }
      options.signal?.throwIfAborted();
    };
    let error: unknown;
    try {
      options.signal?.throwIfAborted();
      if (job.mode === 'incremental') await progress(await this.pass.run(job.filters, progress));
      else {
        const sweep = await this.fullSweep(job, progress, options);
        stats = { ...stats, ...sweep };
      }
    } catch (failure) {
      error = failure;
    }
    stats.duration_ms = Date.now() - started;
    if (error instanceof JobTakenOverError) {
      this.logger.warn({ msg: 'job taken over by another run', stats });
      return;
    }
    const outcome = error === undefined ? 'succeeded' : 'failed';
    const recorded = await this.jobs.finish(job.id, owner, {
      stats,
      error: error === undefined ? undefined : describe(error),
    });
    if (!recorded) {
      this.logger.warn({ msg: 'outcome refused: the job was taken over or finished', outcome });
      return;
    }
    this.metrics.job(job.trigger, job.mode, outcome);
    if (error === undefined) this.logger.log({ msg: 'job succeeded', stats });
    else this.logger.error({ msg: 'job failed', err: error, stats });
  }

  /** Job records past JOB_RETENTION_DAYS go, a bounded number per sweep. */
  private async pruneOldJobs(): Promise<number> {
    const days = this.env.JOB_RETENTION_DAYS;
    if (days === 0) return 0;
    const cutoff = Math.floor(Date.now() / 1000) - days * 86_400;
    return this.jobs.pruneFinished(cutoff, JOB_PRUNE_LIMIT);
  }

  private async fullSweep(
    job: ClusterJob,
    progress: (totals: BatchStats) => Promise<void>,
    options: RunOptions,
  ): Promise<Partial<JobStats>> {
    const lease = await this.sweepLock.acquire(SWEEP_LOCK_WAIT_MS);
    if (!lease) {
      throw new SweepBusyError(
        `another sweep kept running for ${SWEEP_LOCK_WAIT_MS / 1000} s; try again when it has finished`,
      );
    }
    try {
      const batch = await this.pass.run(job.filters, progress);
      await progress(batch);
      lease.assertHeld();
      options.signal?.throwIfAborted();
      const maintenance = await this.maintenance.run(lease);
      const prunedJobs = await this.pruneOldJobs();
      return { ...batch, ...maintenance, pruned_jobs: prunedJobs };
    } finally {
      await lease.release();
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
