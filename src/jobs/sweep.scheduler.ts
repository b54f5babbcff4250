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
import { ShutdownDeadline } from '../lifecycle/shutdown-deadline';
import { ClusterJobsProducer } from './jobs.producer';
import { SharedKeys } from '../redis/keyspace';
import { REDIS } from '../redis/redis.module';
import { SweepLock } from '../sweep/sweep-lock';

const CRON_NAME = 'sweep';
/** A tick's claim is kept long enough to outlive clock skew between replicas. */
const TICK_KEY_TTL_MS = 60_000;

/**
 * Fires full sweeps on SWEEP_CRON. Every replica has the schedule; per tick one replica
 * claims it (so replicas whose schedules fire together run one sweep, however fast it is),
 * and a tick while a sweep still runs is skipped. Each sweep is a job (`trigger: schedule`,
 * `mode: full`) dispatched on the job stream like any other, so whichever replica runs it
 * holds its dispatch entry: if that replica dies mid-sweep, another claims the entry and
 * runs the sweep again, and no record stays `running`. The sweep lock, taken by the job,
 * keeps sweeps from overlapping.
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
    private readonly producer: ClusterJobsProducer,
    private readonly deadline: ShutdownDeadline,
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

  /** Stops the schedule and lets a dispatch in hand finish. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.registry.doesExist('cron', CRON_NAME)) this.registry.deleteCronJob(CRON_NAME);
    if (this.running) await this.deadline.within(this.running);
  }

  private async fire(): Promise<void> {
    try {
      // Ticks fire on whole seconds; rounding absorbs timer delay and small clock skew.
      const tick = Math.round(Date.now() / 1000);
      if (
        (await this.redis.set(SharedKeys.sweepTick(tick), '1', 'PX', TICK_KEY_TTL_MS, 'NX')) !==
        'OK'
      )
        return;
      if (await this.lock.isHeld()) {
        this.logger.log('scheduled sweep skipped: another sweep is still running');
        return;
      }
      await this.producer.enqueue({ trigger: 'schedule', mode: 'full', filters: {} });
    } catch (error) {
      this.logger.error({ msg: 'scheduled sweep not dispatched', err: error });
    }
  }
}
