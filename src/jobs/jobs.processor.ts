import { ShutdownDeadline } from '../lifecycle/shutdown-deadline';
import {
  BadRequestException,
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { ClusteringMetrics } from '../metrics/clustering-metrics';
import { ProjectContexts } from '../projects/project-contexts';
import { ProjectRegistry } from '../projects/project-registry';
import { REDIS, RedisConnections } from '../redis/redis.module';
import { holdClaims } from '../stream/claim-keeper';
import { uniqueConsumerName } from '../stream/consumer-name';
import { EventStream } from '../stream/event-stream';
import { StreamEntry } from '../stream/stream-entry';
import { ClusterJobRepository } from './cluster-job.repository';
import { ClusterJobRunner } from './cluster-job.runner';
import { JobMessage } from './job-data';
import {
  JOB_CONSUMER_GROUP,
  JOB_ERROR_BACKOFF_MS,
  JOB_STREAM,
  JOB_STREAM_BLOCK_MS,
} from './jobs.constants';
import { servedProjects } from './served-projects';

/** One-shot jobs with a silent owner re-dispatched per look, at most. */
const SILENT_JOBS_PER_LOOK = 10;

/**
 * Runs the jobs dispatched on `clustering:jobs`, one at a time, on this replica, reading
 * through the same `EventStream` as the feedback consumer (so a lost group is recreated). The
 * stream is shared by all projects: in the project layout an entry names its job's project,
 * and the job is read and run by that project's repository and runner.
 * While a job runs its entry's claim is renewed (which resets its idle time); when a replica
 * dies mid-job, the entry goes idle and another replica claims it (XAUTOCLAIM) and runs the
 * job again, so no job stays `running`. One-shot (`cli`) jobs have no entry while they run:
 * one whose owner stopped its heartbeat for JOB_CLAIM_IDLE_MS (a task killed outright) is put
 * on the stream again. A job started more than JOB_MAX_ATTEMPTS times is marked failed instead.
 */
@Injectable()
export class ClusterJobsProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ClusterJobsProcessor.name);
  private readonly stream: EventStream;
  private stopping = false;
  private loop?: Promise<void>;
  private lastClaimAt = 0;

  constructor(
    @Inject(REDIS) redis: Redis,
    connections: RedisConnections,
    private readonly env: Environment,
    private readonly contexts: ProjectContexts,
    private readonly projects: ProjectRegistry,
    private readonly metrics: ClusteringMetrics,
    private readonly deadline: ShutdownDeadline,
  ) {
    this.stream = new EventStream(
      redis,
      connections.create('job-reader'),
      JOB_STREAM,
      JOB_CONSUMER_GROUP,
      env.CONSUMER_NAME ?? uniqueConsumerName(),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    // From the stream's start: jobs dispatched before any replica ran are still run.
    await this.stream.ensureGroup();
    if (!this.env.JOBS_CONSUMER_ENABLED) return;
    this.loop = this.run();
  }

  /** Before connections close: lets the job in hand finish, within the shutdown deadline. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (!this.loop) return;
    this.stream.interruptRead();
    const finished = await this.deadline.within(this.loop);
    if (!finished) this.logger.warn('stopped during a job; another replica will claim it');
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const entry = await this.next();
        if (entry) await this.handle(entry);
      } catch (error) {
        this.logger.error({ msg: 'job dispatch failed, will retry', err: error });
        await new Promise((resolve) => setTimeout(resolve, JOB_ERROR_BACKOFF_MS));
      }
    }
  }

  /** A job left idle by a dead replica first, else a new one (waiting briefly). */
  private async next(): Promise<StreamEntry | undefined> {
    const idleMs = this.env.JOB_CLAIM_IDLE_MS;
    if (Date.now() - this.lastClaimAt >= idleMs / 2) {
      this.lastClaimAt = Date.now();
      for (const projectId of await servedProjects(this.contexts, this.projects)) {
        const jobs = await this.contexts.get(ClusterJobRepository, projectId);
        const handed = await jobs.redispatchSilent(Date.now() - idleMs, SILENT_JOBS_PER_LOOK);
        if (handed.length > 0)
          this.logger.warn({
            msg: 'silent one-shot jobs re-dispatched',
            handed,
            project_id: projectId,
          });
      }
      const [claimed] = await this.stream.claimIdle(idleMs, 1);
      if (claimed) return claimed;
    }
    const [entry] = await this.stream.readNew(1, JOB_STREAM_BLOCK_MS);
    return entry;
  }

  private async handle(entry: StreamEntry): Promise<void> {
    const message = entry.fields as Partial<JobMessage>;
    const project = await this.projectOf(message);
    if (!project) {
      this.logger.warn({ msg: 'job entry without a valid project_id dropped', entry: message });
      await this.stream.ackAndDelete([entry.entryId]);
      return;
    }
    const jobId = message.job_id ?? '';
    const job = jobId ? await project.jobs.get(jobId) : undefined;
    const deliveries = (await this.stream.deliveryCounts([entry.entryId])).get(entry.entryId) ?? 1;
    // Starts of the job: its deliveries, or its record's for one re-dispatched on a new entry.
    const attempt = Math.max(deliveries, (job?.attempts ?? 0) + 1);
    if (!job || job.status === 'succeeded' || job.status === 'failed') {
      // Unknown, or finished by a replica that died before acknowledging: nothing to do.
    } else if (attempt > this.env.JOB_MAX_ATTEMPTS) {
      const abandoned = await project.jobs.giveUp(
        job.id,
        `abandoned after ${attempt - 1} attempts: the replicas running it stopped`,
      );
      if (abandoned) this.metrics.job(job.trigger, job.mode, 'failed');
      this.logger.warn({ msg: 'job abandoned', job_id: job.id, attempt });
    } else {
      const held = holdClaims(this.stream, [entry.entryId], this.env.JOB_CLAIM_IDLE_MS);
      try {
        await project.runner.run(job.id, { attempt });
      } finally {
        held.release();
      }
    }
    await this.stream.ackAndDelete([entry.entryId]);
  }

  /** The job's project's record and runner; undefined when the entry names no valid project. */
  private async projectOf(
    message: Partial<JobMessage>,
  ): Promise<{ jobs: ClusterJobRepository; runner: ClusterJobRunner } | undefined> {
    try {
      return {
        jobs: await this.contexts.get(ClusterJobRepository, message.project_id),
        runner: await this.contexts.get(ClusterJobRunner, message.project_id),
      };
    } catch (error) {
      if (error instanceof BadRequestException) return undefined;
      throw error;
    }
  }
}
