import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { ClusteringMetrics } from '../metrics/clustering-metrics';
import { REDIS, RedisConnections } from '../redis/redis.module';
import { uniqueConsumerName } from '../stream/consumer-name';
import { RawEntry, StreamEntry, toStreamEntry } from '../stream/stream-entry';
import { ClusterJobRepository } from './cluster-job.repository';
import { ClusterJobRunner } from './cluster-job.runner';
import { JobMessage } from './job-data';
import {
  JOB_CONSUMER_GROUP,
  JOB_ERROR_BACKOFF_MS,
  JOB_STREAM,
  JOB_STREAM_BLOCK_MS,
} from './jobs.constants';

/**
 * Runs the jobs dispatched on `clustering:jobs`, one at a time, on this replica. While a job
 * runs its entry is re-claimed by this consumer regularly (which resets its idle time); when
 * a replica dies mid-job, the entry goes idle and another replica claims it (XAUTOCLAIM) and
 * runs the job again, so no job stays `running`. A job delivered more than JOB_MAX_ATTEMPTS
 * times is marked failed instead.
 */
@Injectable()
export class ClusterJobsProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ClusterJobsProcessor.name);
  private readonly consumer: string;
  private stopping = false;
  private loop?: Promise<void>;
  private lastClaimAt = 0;
  private blockingClientId?: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly connections: RedisConnections,
    private readonly env: Environment,
    private readonly jobs: ClusterJobRepository,
    private readonly runner: ClusterJobRunner,
    private readonly metrics: ClusteringMetrics,
  ) {
    this.consumer = env.CONSUMER_NAME ?? uniqueConsumerName();
  }

  async onApplicationBootstrap(): Promise<void> {
    // From the stream's start: jobs dispatched before any replica ran are still run.
    try {
      await this.redis.xgroup('CREATE', JOB_STREAM, JOB_CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('BUSYGROUP')) throw error;
    }
    if (!this.env.JOBS_CONSUMER_ENABLED) return;
    const blocking = this.connections.create('job-reader');
    this.blockingClientId = Number(await blocking.client('ID'));
    this.loop = this.run(blocking);
  }

  /** Before connections close: lets the job in hand finish, at most SHUTDOWN_TIMEOUT_MS. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (!this.loop) return;
    // Ends a blocking read at once instead of at its timeout.
    if (this.blockingClientId !== undefined) {
      await this.redis.client('UNBLOCK', this.blockingClientId).catch(() => undefined);
    }
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.loop.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.env.SHUTDOWN_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) this.logger.warn('stopped during a job; another replica will claim it');
  }

  private async run(blocking: Redis): Promise<void> {
    while (!this.stopping) {
      try {
        const entry = await this.next(blocking);
        if (entry) await this.handle(entry);
      } catch (error) {
        this.logger.error({ msg: 'job dispatch failed, will retry', err: error });
        await new Promise((resolve) => setTimeout(resolve, JOB_ERROR_BACKOFF_MS));
      }
    }
  }

  /** A job left idle by a dead replica first, else a new one (waiting briefly). */
  private async next(blocking: Redis): Promise<StreamEntry | undefined> {
    const idleMs = this.env.JOB_CLAIM_IDLE_MS;
    if (Date.now() - this.lastClaimAt >= idleMs / 2) {
      this.lastClaimAt = Date.now();
      const [, claimed] = (await this.redis.xautoclaim(
        JOB_STREAM,
        JOB_CONSUMER_GROUP,
        this.consumer,
        idleMs,
        '0',
        'COUNT',
        1,
      )) as [string, RawEntry[]];
      const entry = claimed.find(([, fields]) => fields !== null);
      if (entry) return toStreamEntry(entry);
    }
    const reply = (await blocking.xreadgroup(
      'GROUP',
      JOB_CONSUMER_GROUP,
      this.consumer,
      'COUNT',
      1,
      'BLOCK',
      JOB_STREAM_BLOCK_MS,
      'STREAMS',
      JOB_STREAM,
      '>',
    )) as Array<[string, RawEntry[]]> | null;
    const raw = reply?.[0]?.[1]?.[0];
    return raw ? toStreamEntry(raw) : undefined;
  }

  private async handle(entry: StreamEntry): Promise<void> {
    const jobId = (entry.fields as Partial<JobMessage>).job_id ?? '';
    const job = jobId ? await this.jobs.get(jobId) : undefined;
    const deliveries = await this.deliveries(entry.entryId);
    if (!job || job.status === 'succeeded' || job.status === 'failed') {
      // Unknown, or finished by a replica that died before acknowledging: nothing to do.
    } else if (deliveries > this.env.JOB_MAX_ATTEMPTS) {
      await this.jobs.finish(job.id, {
        stats: job.stats,
        error: `abandoned after ${deliveries - 1} attempts: the replicas running it stopped`,
      });
      this.metrics.job(job.trigger, job.mode, 'failed');
      this.logger.warn({ msg: 'job abandoned', job_id: job.id, deliveries });
    } else {
      await this.runKeepingClaim(entry.entryId, job.id, deliveries);
    }
    await this.redis
      .multi()
      .xack(JOB_STREAM, JOB_CONSUMER_GROUP, entry.entryId)
      .xdel(JOB_STREAM, entry.entryId)
      .exec();
  }

  private async runKeepingClaim(entryId: string, jobId: string, attempt: number): Promise<void> {
    const keepClaim = setInterval(
      () => {
        // JUSTID: resets the entry's idle time without counting a delivery.
        this.redis
          .xclaim(JOB_STREAM, JOB_CONSUMER_GROUP, this.consumer, 0, entryId, 'JUSTID')
          .catch((error: unknown) =>
            this.logger.warn({ msg: 'could not renew job claim', err: error }),
          );
      },
      Math.max(250, Math.floor(this.env.JOB_CLAIM_IDLE_MS / 3)),
    );
    try {
      await this.runner.run(jobId, { attempt });
    } finally {
      clearInterval(keepClaim);
    }
  }

  private async deliveries(entryId: string): Promise<number> {
    const rows = (await this.redis.xpending(
      JOB_STREAM,
      JOB_CONSUMER_GROUP,
      entryId,
      entryId,
      1,
    )) as Array<[string, string, number, number]>;
    return rows[0]?.[3] ?? 1;
  }
}
