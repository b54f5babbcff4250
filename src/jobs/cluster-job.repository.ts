import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import Redis, { ChainableCommander } from 'ioredis';
import { decodeCursor, encodeCursor, Page } from '../http/page-cursor';
import { Keyspace } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import {
  ClusterJob,
  emptyJobStats,
  JOB_MODES,
  JOB_STATUSES,
  JOB_TRIGGERS,
  JobFilters,
  jobMessageFields,
  JobStats,
} from './job-data';
import { JOB_STREAM, JOB_STREAM_MAX_LEN } from './jobs.constants';

/**
 * Reads and writes `cluster_job:{id}` and `cluster_jobs:recent` (CONTRACT §4; in the project
 * layout a project's, with `project_id` in the record, §7). A run owns its job through the
 * `owner` token it claimed it with (`claim-job.lua`); progress and the outcome are written
 * only with that token (`update-job.lua`).
 */
@Injectable()
export class ClusterJobRepository {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
  ) {}

  /**
   * Writes a new job record, of this repository's project, and indexes it; `alongside` adds
   * commands to the same MULTI (the dispatch), so a job is never recorded without being
   * dispatched or the reverse. Returns the job as recorded.
   */
  async create(
    request: ClusterJob,
    alongside?: (multi: ChainableCommander, job: ClusterJob) => void,
  ): Promise<ClusterJob> {
    const projectId = this.keys.projectId;
    const job = projectId === undefined ? request : { ...request, project_id: projectId };
    const multi = this.redis
      .multi()
      .hset(this.keys.jobs.job(job.id), toHash(job))
      .zadd(this.keys.jobs.recent, Math.floor(Date.parse(job.created_at) / 1000), job.id);
    alongside?.(multi, job);
    await execOrThrow(multi);
    return job;
  }

  async get(id: string): Promise<ClusterJob | undefined> {
    return fromHash(await this.redis.hgetall(this.keys.jobs.job(id)));
  }

  /**
   * Starts the job's `attempt`-th run under a new owner token, which every later write of
   * this run must present; a previous attempt's outcome is cleared. Undefined when the job is
   * unknown or already finished (a job finishes once: it is not run again).
   */
  async claim(id: string, attempt: number): Promise<string | undefined> {
    const owner = randomUUID();
    const claimed = await runScript(
      this.redis,
      'claimJob',
      [this.keys.jobs.job(id), this.keys.service.jobHeartbeats],
      [
        owner,
        id,
        Date.now(),
        'status',
        'running',
        'started_at',
        new Date().toISOString(),
        'attempts',
        attempt,
        'stats',
        JSON.stringify(emptyJobStats()),
      ],
    );
    return claimed === 1 ? owner : undefined;
  }

  /** Progress of a running job, so that readers see its counts grow; false when refused. */
  async saveStats(id: string, owner: string, stats: JobStats): Promise<boolean> {
    return this.writeOwned(id, owner, { stats: JSON.stringify(stats) });
  }

  /** The owner's sign of life between progress writes; false when it no longer owns the job. */
  async heartbeat(id: string, owner: string): Promise<boolean> {
    return this.writeOwned(id, owner, {});
  }

  /**
   * Hands `cli` jobs whose owner has been silent since `cutoffMs` (a one-shot task killed
   * outright) to the job stream again, at most `limit` per call; returns their ids. Jobs
   * dispatched on the stream are reclaimed through their pending entry instead.
   */
  async redispatchSilent(cutoffMs: number, limit: number): Promise<string[]> {
    const silent = await this.redis.zrangebyscore(
      this.keys.service.jobHeartbeats,
      '-inf',
      cutoffMs,
      'LIMIT',
      0,
      limit,
    );
    const redispatched: string[] = [];
    for (const id of silent) {
      const trigger = await this.redis.hget(this.keys.jobs.job(id), 'trigger');
      // A record removed meanwhile has nothing left to reclaim.
      if (trigger === null) await this.redis.zrem(this.keys.service.jobHeartbeats, id);
      if (trigger !== 'cli') continue;
      const handed = await runScript(
        this.redis,
        'redispatchJob',
        [this.keys.service.jobHeartbeats, JOB_STREAM],
        [
          id,
          cutoffMs,
          JOB_STREAM_MAX_LEN,
          ...jobMessageFields({ job_id: id, project_id: this.keys.projectId }),
        ],
      );
      if (handed === 1) redispatched.push(id);
    }
    return redispatched;
  }

  /**
   * Records the outcome of the owner's run. Refused (false) when another owner took the job
   * over or it finished already, so a job claimed twice finishes once.
   */
  async finish(
    id: string,
    owner: string,
    outcome: { stats: JobStats; error?: string },
  ): Promise<boolean> {
    const fields: Record<string, string> = {
      status: outcome.error === undefined ? 'succeeded' : 'failed',
      finished_at: new Date().toISOString(),
      stats: JSON.stringify(outcome.stats),
    };
    if (outcome.error !== undefined) fields.error = outcome.error;
    return this.writeOwned(id, owner, fields, true);
  }

  /** Marks a job failed whoever owns it (its runs were abandoned), unless it finished. */
  async giveUp(id: string, error: string): Promise<boolean> {
    return this.writeOwned(
      id,
      '',
      { status: 'failed', finished_at: new Date().toISOString(), error },
      true,
    );
  }

  private async writeOwned(
    id: string,
    owner: string,
    fields: Record<string, string>,
    finishes = false,
  ): Promise<boolean> {
    const written = await runScript(
      this.redis,
      'updateJob',
      [this.keys.jobs.job(id), this.keys.service.jobHeartbeats],
      [owner, id, finishes ? '' : Date.now(), ...Object.entries(fields).flat()],
    );
    return written === 1;
  }

  /**
   * Removes finished (succeeded or failed) job records created before `cutoff` (Unix
   * seconds), at most `limit` per call; pending and running jobs are never removed.
   * Returns how many were removed.
   */
  async pruneFinished(cutoff: number, limit: number): Promise<number> {
    const ids = await this.redis.zrangebyscore(
      this.keys.jobs.recent,
      '-inf',
      `(${cutoff}`,
      'LIMIT',
      0,
      limit,
    );
    const statuses = await Promise.all(
      ids.map((id) => this.redis.hget(this.keys.jobs.job(id), 'status')),
    );
    const finished = ids.filter((_, i) => statuses[i] !== 'pending' && statuses[i] !== 'running');
    if (finished.length === 0) return 0;
    const multi = this.redis.multi().zrem(this.keys.jobs.recent, ...finished);
    for (const id of finished) multi.del(this.keys.jobs.job(id));
    await execOrThrow(multi);
    return finished.length;
  }

  /** Recent jobs, newest first (ties by id, descending), after the `cursor` position. */
  async list(limit: number, cursor?: string): Promise<Page<ClusterJob>> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    let ids: Array<{ id: string; score: number }>;
    if (after === undefined) {
      ids = pairs(await this.redis.zrevrange(this.keys.jobs.recent, 0, limit, 'WITHSCORES'));
    } else {
      // Jobs sharing the cursor's score (same second) come before or after it by id.
      const ties = await this.redis.zcount(this.keys.jobs.recent, after.value, after.value);
      const rows = pairs(
        await this.redis.zrevrangebyscore(
          this.keys.jobs.recent,
          after.value,
          '-inf',
          'WITHSCORES',
          'LIMIT',
          0,
          limit + ties + 1,
        ),
      );
      ids = rows.filter((r) => r.score < after.value || r.id < after.id).slice(0, limit + 1);
    }
    const page = ids.slice(0, limit);
    const jobs = await this.getMany(page.map((p) => p.id));
    const last = page[page.length - 1];
    return {
      items: jobs,
      next_cursor:
        ids.length > limit && last ? encodeCursor({ value: last.score, id: last.id }) : null,
    };
  }

  private async getMany(ids: readonly string[]): Promise<ClusterJob[]> {
    if (ids.length === 0) return [];
    const read = this.redis.pipeline();
    for (const id of ids) read.hgetall(this.keys.jobs.job(id));
    const replies = (await read.exec()) ?? [];
    const jobs: ClusterJob[] = [];
    for (const [error, hash] of replies) {
      if (error) throw error;
      const job = fromHash(hash as Record<string, string>);
      if (job) jobs.push(job);
    }
    return jobs;
  }
}

async function execOrThrow(multi: ChainableCommander): Promise<void> {
  for (const [error] of (await multi.exec()) ?? []) if (error) throw error;
}

function pairs(flat: string[]): Array<{ id: string; score: number }> {
  const out: Array<{ id: string; score: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    out.push({ id: flat[i], score: Number(flat[i + 1]) });
  return out;
}

function toHash(job: ClusterJob): Record<string, string> {
  const hash: Record<string, string> = {
    id: job.id,
    ...(job.project_id === undefined ? {} : { project_id: job.project_id }),
    status: job.status,
    trigger: job.trigger,
    mode: job.mode,
    filters: JSON.stringify(job.filters),
    stats: JSON.stringify(job.stats),
    created_at: job.created_at,
    attempts: String(job.attempts),
  };
  if (job.started_at) hash.started_at = job.started_at;
  if (job.finished_at) hash.finished_at = job.finished_at;
  if (job.error !== undefined) hash.error = job.error;
  return hash;
}

/** Parses a job hash; tolerant of records written by others (unknown values keep defaults). */
function fromHash(hash: Record<string, string>): ClusterJob | undefined {
  if (!hash.id) return undefined;
  return {
    id: hash.id,
    ...(hash.project_id === undefined ? {} : { project_id: hash.project_id }),
    status: oneOf(hash.status, JOB_STATUSES, 'pending'),
    trigger: oneOf(hash.trigger, JOB_TRIGGERS, 'api'),
    mode: oneOf(hash.mode, JOB_MODES, 'incremental'),
    filters: parseObject<JobFilters>(hash.filters) ?? {},
    stats: { ...emptyJobStats(), ...parseObject<Partial<JobStats>>(hash.stats) },
    created_at: hash.created_at ?? '',
    started_at: hash.started_at,
    finished_at: hash.finished_at,
    error: hash.error,
    attempts: Number(hash.attempts ?? 0) || 0,
  };
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T {
  return allowed.find((a) => a === value) ?? fallback;
}

function parseObject<T>(raw: string | undefined): T | undefined {
  if (!raw) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as T)
      : undefined;
  } catch {
    return undefined;
  }
}
