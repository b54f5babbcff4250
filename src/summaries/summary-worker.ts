import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { SummarizeStage } from '../pipeline/summarize/summarize-stage';
import { SummaryQueue } from './summary-queue';
import { SummaryRateLimit } from './summary-rate-limit';

export interface SummaryWorkerOptions {
  /** Summaries written at once by this replica. */
  concurrency: number;
  /** Wait between looks at queues that are all empty. */
  idlePollMs: number;
  /** How often the list of projects is read again (new projects get their turn). */
  refreshProjectsMs: number;
}

/** One project's summary queue and the stage that writes its summaries. */
export interface ProjectSummaries {
  queue: SummaryQueue;
  stage: SummarizeStage;
}

/**
 * The queues the worker serves: one per project (CONTRACT §7), or the one queue of the flat
 * layout (project `undefined`).
 */
export interface SummarySources {
  projects(): Promise<ReadonlyArray<string | undefined>>;
  of(project: string | undefined): Promise<ProjectSummaries>;
}

/** Pause of a project after an unexpected failure (Redis down), so a loop never spins on it. */
const ERROR_BACKOFF_MS = 1_000;
/** Longest single wait for a token; the loop re-checks for shutdown in between. */
const MAX_TOKEN_WAIT_MS = 1_000;

interface HeldClaim {
  queue: SummaryQueue;
  clusterId: string;
}

/**
 * Works the summary queues: takes the projects in turn (so one project's long queue never
 * starves another's), claims that queue's most urgent entry, waits for a token of the
 * deployment-wide rate limit (model summarizers only), summarizes and stores the result. A
 * project whose queue fails is left alone for a moment while the others go on. Stopping gives
 * back every claim it still holds, so another replica can take them at once.
 */
export class SummaryWorker {
  private readonly logger = new Logger(SummaryWorker.name);
  private readonly stopped = new AbortController();
  private readonly held = new Set<HeldClaim>();
  private loops: Promise<void>[] = [];
  private projects: ReadonlyArray<string | undefined> = [];
  private projectsReadAt = Number.NEGATIVE_INFINITY;
  private refreshing?: Promise<void>;
  /** Where the next round starts: advanced by every round, so the projects take turns. */
  private turn = 0;
  /**
   * Project -> epoch ms before which no loop tries it again: its queue was empty (so idle
   * projects cost one claim per poll, however many loops) or failed.
   */
  private readonly restingUntil = new Map<string | undefined, number>();

  constructor(
    private readonly sources: SummarySources,
    /** Absent: no limit (tests). Applies only to stages whose summarizer is a model. */
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
    const byQueue = new Map<SummaryQueue, string[]>();
    for (const { queue, clusterId } of unfinished) {
      byQueue.set(queue, [...(byQueue.get(queue) ?? []), clusterId]);
    }
    await Promise.all([...byQueue].map(([queue, clusterIds]) => queue.release(clusterIds)));
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
      await this.refreshProjects();
      if (!(await this.workOneRound())) await this.pause(this.options.idlePollMs);
    }
  }

  /** Offers each project in turn one claim, from this round's start; false if none had work. */
  private async workOneRound(): Promise<boolean> {
    const projects = this.projects;
    const start = this.turn++;
    for (let i = 0; i < projects.length && !this.stopping; i++) {
      const project = projects[(start + i) % projects.length];
      if ((this.restingUntil.get(project) ?? 0) > Date.now()) continue;
      try {
        if (await this.workOne(project)) return true;
        this.restingUntil.set(project, Date.now() + this.options.idlePollMs);
      } catch (error) {
        this.restingUntil.set(project, Date.now() + ERROR_BACKOFF_MS);
        this.logger.warn({ msg: 'summary queue: will retry', project, err: error });
      }
    }
    return false;
  }

  /** Claims and summarizes one entry of `project`'s queue; false when the queue is empty. */
  private async workOne(project: string | undefined): Promise<boolean> {
    const { queue, stage } = await this.sources.of(project);
    const claim = await queue.claim();
    if (!claim) return false;
    const held = { queue, clusterId: claim.clusterId };
    this.held.add(held);
    try {
      await this.summarize(queue, stage, claim.clusterId);
    } finally {
      this.held.delete(held);
    }
    return true;
  }

  private async summarize(
    queue: SummaryQueue,
    stage: SummarizeStage,
    clusterId: string,
  ): Promise<void> {
    if (!(await this.awaitToken(stage))) {
      await queue.release([clusterId]);
      return;
    }
    try {
      const described = await stage.summarizeOne(clusterId);
      if (described) await queue.complete(clusterId, described);
      else await queue.drop(clusterId);
    } catch (error) {
      // The cluster keeps its current text; the entry goes back for a later attempt.
      await queue.release([clusterId]);
      throw error;
    }
  }

  /** Reads the projects again once they are older than `refreshProjectsMs`; one read at a time. */
  private async refreshProjects(): Promise<void> {
    if (Date.now() - this.projectsReadAt < this.options.refreshProjectsMs) return;
    this.refreshing ??= this.sources
      .projects()
      .then((projects) => {
        this.projects = projects;
        this.projectsReadAt = Date.now();
      })
      .catch((error: unknown) => {
        // The projects known so far keep being served; the read is tried again shortly.
        this.projectsReadAt = Date.now() - this.options.refreshProjectsMs + ERROR_BACKOFF_MS;
        this.logger.warn({ msg: 'summary queue: cannot read the projects', err: error });
      })
      .finally(() => (this.refreshing = undefined));
    await this.refreshing;
  }

  /** True once a token is taken (or the stage's summarizer costs nothing); false when stopping first. */
  private async awaitToken(stage: SummarizeStage): Promise<boolean> {
    if (!this.rateLimit || !stage.queuesNewClusters) return true;
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
