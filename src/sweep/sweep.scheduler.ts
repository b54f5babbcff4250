import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { ClusterJobRepository } from '../jobs/cluster-job.repository';
import { ClusterJobRunner } from '../jobs/cluster-job.runner';
import { newClusterJob } from '../jobs/job-data';
import { REDIS } from '../redis/redis.module';
import { SweepLock } from './sweep-lock';

const CRON_NAME = 'sweep';
/** Marks a schedule tick as taken by one replica; kept long enough to outlive clock skew. */
const tickKey = (second: number) => `clustering:sweep:tick:${second}`;
const TICK_KEY_TTL_MS = 60_000;

/**
 * Fires full sweeps on SWEEP_CRON. Every replica has the schedule; per tick one replica
 * claims it (so replicas whose schedules fire together run one sweep, however fast it is),
 * and the sweep lock keeps it from overlapping a sweep still running. Each sweep is a job
 * record (`trigger: schedule`, `mode: full`).
 */
@Injectable()
export class SweepScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SweepScheduler.name);
  private running?: Promise<void>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly registry: SchedulerRegistry,
    private readonly env: Environment,
    private readonly lock: SweepLock,
    private readonly jobs: ClusterJobRepository,
    private readonly runner: ClusterJobRunner,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.env.SWEEP_ENABLED) return;
    const cron = CronJob.from({
      cronTime: this.env.SWEEP_CRON,
      onTick: () => {
        this.running ??= this.fire().finally(() => (this.running = undefined));
      },
      start: true,
    });
    this.registry.addCronJob(CRON_NAME, cron);
  }

  /** Stops the schedule and lets a sweep in hand finish (its lock expires if it cannot). */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.registry.doesExist('cron', CRON_NAME)) this.registry.deleteCronJob(CRON_NAME);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.running,
      new Promise((resolve) => (timer = setTimeout(resolve, this.env.SHUTDOWN_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
  }

  private async fire(): Promise<void> {
    try {
      // Ticks fire on whole seconds; rounding absorbs timer delay and small clock skew.
      const tick = Math.round(Date.now() / 1000);
      if ((await this.redis.set(tickKey(tick), '1', 'PX', TICK_KEY_TTL_MS, 'NX')) !== 'OK') return;
      const lease = await this.lock.tryAcquire();
      if (!lease) {
        this.logger.log('scheduled sweep skipped: another sweep is still running');
        return;
      }
      try {
        const job = newClusterJob({ trigger: 'schedule', mode: 'full', filters: {} });
        await this.jobs.create(job);
        await this.runner.run(job.id, { sweepLease: lease });
      } finally {
        await lease.release();
      }
    } catch (error) {
      this.logger.error({ msg: 'scheduled sweep failed', err: error });
    }
  }
}
