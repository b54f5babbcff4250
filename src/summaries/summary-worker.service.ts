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
import { ProjectContexts } from '../projects/project-contexts';
import { ProjectRegistry } from '../projects/project-registry';
import { REDIS } from '../redis/redis.module';
import { SummaryQueue } from './summary-queue';
import { SummaryRateLimit } from './summary-rate-limit';
import { SummarySources, SummaryWorker } from './summary-worker';

const IDLE_POLL_MS = 250;
const REFRESH_PROJECTS_MS = 5_000;

/**
 * Runs this replica's share of the summary queues for the application's lifetime: the one
 * queue of the flat layout, or every known project's (CONTRACT §7), each resolved in its
 * project's context. The model-call rate limit is the deployment's (one API key).
 */
@Injectable()
export class SummaryWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SummaryWorkerService.name);
  private readonly worker: SummaryWorker;

  constructor(
    @Inject(REDIS) redis: Redis,
    contexts: ProjectContexts,
    registry: ProjectRegistry,
    private readonly env: Environment,
    private readonly deadline: ShutdownDeadline,
  ) {
    const sources: SummarySources = {
      projects: async () => (contexts.layout === 'flat' ? [undefined] : registry.list()),
      of: async (project) => ({
        queue: await contexts.get(SummaryQueue, project),
        stage: await contexts.get(SummarizeStage, project),
      }),
    };
    this.worker = new SummaryWorker(
      sources,
      new SummaryRateLimit(redis, env.GEMINI_SUMMARIES_PER_MINUTE),
      {
        concurrency: env.SUMMARY_CONCURRENCY,
        idlePollMs: IDLE_POLL_MS,
        refreshProjectsMs: REFRESH_PROJECTS_MS,
      },
    );
  }

  onApplicationBootstrap(): void {
    if (!this.env.SUMMARY_WORKER_ENABLED) return;
    this.worker.start();
    this.logger.log(`working the summary queues, ${this.env.SUMMARY_CONCURRENCY} at a time`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop((work) => this.deadline.within(work));
  }
}
