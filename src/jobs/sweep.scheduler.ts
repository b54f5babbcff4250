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
import { ProjectContexts } from '../projects/project-contexts';
import { ProjectRegistry } from '../projects/project-registry';
import { SharedKeys } from '../redis/keyspace';
import { REDIS } from '../redis/redis.module';
import { SweepLock } from '../sweep/sweep-lock';
import { servedProjects } from './served-projects';

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
 * keeps sweeps from overlapping. In the project layout a tick dispatches one sweep per known
 * project, each checked against that project's own sweep lock.
 */
@Injectable()
export class SweepScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SweepScheduler.name);
  private running?: Promise<void>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly registry: SchedulerRegistry,
    private readonly env: Environment,
    private readonly contexts: ProjectContexts,
    private readonly projects: ProjectRegistry,
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
      for (const projectId of await servedProjects(this.contexts, this.projects)) {
        await this.dispatch(projectId);
      }
    } catch (error) {
      this.logger.error({ msg: 'scheduled sweeps not dispatched', err: error });
    }
  }

  /** The project's sweep, unless one still runs; a failure here leaves the others' alone. */
  private async dispatch(projectId: string | undefined): Promise<void> {
    try {
      const lock = await this.contexts.get(SweepLock, projectId);
      if (await lock.isHeld()) {
        this.logger.log({
          msg: 'scheduled sweep skipped: another sweep is still running',
          project_id: projectId,
        });
        return;
      }
      const producer = await this.contexts.get(ClusterJobsProducer, projectId);
      await producer.enqueue({ trigger: 'schedule', mode: 'full', filters: {} });
    } catch (error) {
      this.logger.error({
        msg: 'scheduled sweep not dispatched',
        err: error,
        project_id: projectId,
      });
    }
  }
}
