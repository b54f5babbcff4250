import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { SummarizeStage } from '../pipeline/summarize/summarize-stage';
import { SummaryQueue } from './summary-queue';
import { SummaryRateLimit } from './summary-rate-limit';

export interface SummaryWorkerOptions {
  /** Summaries written at once by this replica. */
  concurrency: number;
  /** Wait between looks at an empty queue. */
  idlePollMs: number;
}

/** Pause after an unexpected failure (Redis down), so a loop never spins. */
const ERROR_BACKOFF_MS = 1_000;
/** Longest single wait for a token; the loop re-checks for shutdown in between. */
const MAX_TOKEN_WAIT_MS = 1_000;

/**
 * Works the summary queue: claims the most urgent entry, waits for a token of the
 * deployment-wide rate limit (model summarizers only), summarizes and stores the result.
 * Stopping gives back every claim it still holds, so another replica can take them at once.
 */
export class SummaryWorker {
  private readonly logger = new Logger(SummaryWorker.name);
  private readonly stopped = new AbortController();
  private readonly held = new Set<string>();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly queue: SummaryQueue,
    private readonly stage: SummarizeStage,
    /** Absent for the extractive summarizer, which costs nothing. */
    private readonly rateLimit: SummaryRateLimit | undefined,
    private readonly options: SummaryWorkerOptions,
  ) {}

  start(): void {
    this.loops = Array.from({ length: this.options.concurrency }, () => this.run());
  }

  /** Stops claiming; lets summaries in flight finish within `within`, then releases the rest. */
  async stop(within: (work: Promise<unknown>) => Promise<boolean>): Promise<void> {
    this.stopped.abort();
    const finished = await within(Promise.all(this.loops));
    const unfinished = [...this.held];
    await this.queue.release(unfinished);
    if (!finished) {
      this.logger.warn(
        `stopped with ${unfinished.length} summaries in flight; released to the queue`,
      );
    }
  }

  private get stopping(): boolean {
    return this.stopped.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const claim = await this.queue.claim();
        if (!claim) {
          await this.pause(this.options.idlePollMs);
          continue;
        }
        this.held.add(claim.clusterId);
        try {
          await this.summarize(claim.clusterId);
        } finally {
          this.held.delete(claim.clusterId);
        }
      } catch (error) {
        this.logger.warn({ msg: 'summary queue: will retry', err: error });
        await this.pause(ERROR_BACKOFF_MS);
      }
    }
  }

  private async summarize(clusterId: string): Promise<void> {
    if (!(await this.awaitToken())) {
      await this.queue.release([clusterId]);
      return;
    }
    try {
      const described = await this.stage.summarizeOne(clusterId);
      if (described) await this.queue.complete(clusterId, described);
      else await this.queue.drop(clusterId);
    } catch (error) {
      // The cluster keeps its current text; the entry goes back for a later attempt.
      await this.queue.release([clusterId]);
      throw error;
    }
  }

  /** True once a token is taken; false when stopping first. */
  private async awaitToken(): Promise<boolean> {
    if (!this.rateLimit) return true;
    while (!this.stopping) {
      const waitMs = await this.rateLimit.take();
      if (waitMs === 0) return true;
      await this.pause(Math.min(waitMs, MAX_TOKEN_WAIT_MS));
    }
    return false;
  }

  /** Sleeps, waking early on stop. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopped.signal }).catch(() => undefined);
  }
}
