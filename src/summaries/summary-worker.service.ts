import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { ShutdownDeadline } from '../lifecycle/shutdown-deadline';
import { SummarizeStage } from '../pipeline/summarize/summarize-stage';
import { REDIS } from '../redis/redis.module';
import { SummaryQueue } from './summary-queue';
import { SummaryRateLimit } from './summary-rate-limit';
import { SummaryWorker } from './summary-worker';

const IDLE_POLL_MS = 250;

/** Runs this replica's share of the summary queue for the application's lifetime. */
@Injectable()
export class SummaryWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SummaryWorkerService.name);
  private readonly worker: SummaryWorker;

  constructor(
    @Inject(REDIS) redis: Redis,
    stage: SummarizeStage,
    queue: SummaryQueue,
    private readonly env: Environment,
    private readonly deadline: ShutdownDeadline,
  ) {
    const rateLimit = stage.queuesNewClusters
      ? new SummaryRateLimit(redis, env.GEMINI_SUMMARIES_PER_MINUTE)
      : undefined;
    this.worker = new SummaryWorker(queue, stage, rateLimit, {
      concurrency: env.SUMMARY_CONCURRENCY,
      idlePollMs: IDLE_POLL_MS,
    });
  }

  onApplicationBootstrap(): void {
    if (!this.env.SUMMARY_WORKER_ENABLED) return;
    this.worker.start();
    this.logger.log(`working the summary queue, ${this.env.SUMMARY_CONCURRENCY} at a time`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop((work) => this.deadline.within(work));
  }
}
