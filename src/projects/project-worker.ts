import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { FeedbackRepository } from '../feedback/feedback.repository';
import { ClusteringMetrics } from '../metrics/clustering-metrics';
import { ClusteringPipeline } from '../pipeline/clustering-pipeline';
import { EmbedRetrySchedule } from '../pipeline/embed/embed-retry-schedule';
import { DistributedLock } from '../redis/distributed-lock';
import { isProjectId, Keyspace } from '../redis/keyspace';
import { DeadLetters } from '../stream/dead-letters';
import { EventStream } from '../stream/event-stream';
import { ProjectContexts } from './project-contexts';
import { ProjectRegistry } from './project-registry';

export interface ProjectWorkerOptions {
  /** Items per batch, as the stream consumer's BATCH_MAX_ITEMS. */
  batchMaxItems: number;
  /** Longest a project with nothing to do waits before its set is looked at again. */
  idleMs: number;
  /** Entries idle this long under a dead consumer are taken over (CLAIM_IDLE_MS). */
  claimIdleMs: number;
}

/** Ids SSCAN reads per call of a project's unclustered set. */
const SCAN_COUNT = 256;
/** A project whose batch failed (Redis, the lock) waits this long; the others go on. */
const FAILED_PROJECT_PAUSE_MS = 5_000;
/** How often the list of known projects is read again (new ones are also noted at once). */
const PROJECT_LIST_REFRESH_MS = 5_000;
/** A replica's claim on a project while it runs one batch of it; a dead holder's lapses. */
const PROJECT_LEASE_MS = 60_000;
/** How often entries of dead consumers are taken over from the event stream. */
const CLAIM_INTERVAL_MS = 30_000;

/**
 * The clustering loop of the project layout (CONTRACT §7), whose producers write no events:
 * a project's work is what waits in `feedback:unclustered:{pid}`. Projects are found as
 * ProjectRegistry discovers them; each round gives every project with work at most one batch
 * (round-robin, so one project's backlog never holds back another's), under a short per-project
 * lease so that replicas share the projects instead of racing on the same items, and a batch
 * that fails pauses its project only. Events, where a producer writes them, only say which
 * project to look at now (their `project_id`); they are acknowledged at once, the items
 * themselves being found in the project's set.
 */
export class ProjectWorker {
  private readonly logger = new Logger(ProjectWorker.name);
  private stopping = false;
  private loops: Promise<void>[] = [];
  private projects: string[] = [];
  private projectsReadAt = 0;
  /** Projects to look at before the others (named by an event since the last round). */
  private readonly hot = new Set<string>();
  /** Per project: where its SSCAN stands, and until when it is left alone. */
  private readonly cursors = new Map<string, string>();
  private readonly restUntil = new Map<string, number>();
  private wake?: () => void;

  constructor(
    private readonly redis: Redis,
    private readonly contexts: ProjectContexts,
    private readonly registry: ProjectRegistry,
    private readonly events: EventStream,
    private readonly deadLetters: DeadLetters,
    private readonly metrics: ClusteringMetrics,
    private readonly options: ProjectWorkerOptions,
  ) {}

  async start(): Promise<void> {
    await this.events.ensureGroup();
    this.loops = [this.runEvents(), this.runWork()];
  }

  /** Stops taking new batches and waits (at most `withinMs`) for the ones in hand. */
  async stop(withinMs: number): Promise<void> {
    this.stopping = true;
    this.events.interruptRead();
    this.wake?.();
    await Promise.race([Promise.all(this.loops), sleep(withinMs)]);
  }

  /** One round over the known projects; the number of items offered. Public for tests. */
  async round(): Promise<number> {
    await this.refreshProjects();
    const now = Date.now();
    const order = [
      ...[...this.hot].filter((p) => this.projects.includes(p)),
      ...this.projects.filter((p) => !this.hot.has(p)),
    ];
    this.hot.clear();
    let offered = 0;
    for (const projectId of order) {
      if (this.stopping) break;
      if ((this.restUntil.get(projectId) ?? 0) > now) continue;
      try {
        offered += await this.step(projectId);
      } catch (error) {
        this.logger.warn(`project ${projectId}: batch failed, pausing it: ${String(error)}`);
        this.restUntil.set(projectId, Date.now() + FAILED_PROJECT_PAUSE_MS);
      }
    }
    return offered;
  }

  private async runWork(): Promise<void> {
    while (!this.stopping) {
      let offered = 0;
      try {
        offered = await this.round();
      } catch (error) {
        this.logger.warn(`project round failed: ${String(error)}`);
      }
      if (offered === 0 && !this.stopping) await this.idle();
    }
  }

  /** Waits for an event naming a project, or the idle interval. */
  private async idle(): Promise<void> {
    const controller = new AbortController();
    this.wake = () => controller.abort();
    await sleep(this.options.idleMs, undefined, { signal: controller.signal }).catch(() => {});
    this.wake = undefined;
  }

  /** Reads events for their `project_id` only, and acknowledges them. */
  private async runEvents(): Promise<void> {
    let claimedAt = 0;
    while (!this.stopping) {
      try {
        const entries =
          Date.now() - claimedAt > CLAIM_INTERVAL_MS
            ? await this.events.claimIdle(this.options.claimIdleMs, 100)
            : await this.events.readNew(100, 1000);
        if (Date.now() - claimedAt > CLAIM_INTERVAL_MS) claimedAt = Date.now();
        if (entries.length === 0) continue;
        const named = entries.map((e) => e.fields.project_id?.trim() ?? '');
        const unusable = entries.filter((_, i) => !named[i] || !isProjectId(named[i]));
        await this.deadLetters.add(
          unusable.map((entry) => ({ entry, reason: 'event has no valid project_id' })),
        );
        const projects = named.filter(isProjectId);
        await this.registry.note(projects);
        for (const projectId of projects) {
          this.hot.add(projectId);
          this.restUntil.delete(projectId);
        }
        this.projectsReadAt = 0;
        await this.events.ack(entries.map((e) => e.entryId));
        this.wake?.();
      } catch (error) {
        if (this.stopping) return;
        this.logger.warn(`event stream read failed: ${String(error)}`);
        await sleep(1000);
      }
    }
  }

  private async refreshProjects(): Promise<void> {
    // One bounded discovery step per round: a large keyspace is covered over several rounds.
    const found = await this.registry.discoverStep();
    for (const projectId of found) this.hot.add(projectId);
    if (found.length > 0 || Date.now() - this.projectsReadAt > PROJECT_LIST_REFRESH_MS) {
      this.projects = await this.registry.list();
      this.projectsReadAt = Date.now();
    }
  }

  /** One batch of one project, if this replica gets the project's lease; items offered. */
  private async step(projectId: string): Promise<number> {
    const keys = Keyspace.project(projectId);
    const lease = new DistributedLock(this.redis, keys.service.workerLock, PROJECT_LEASE_MS);
    const held = await lease.runIfFree(async () => {
      const ids = await this.nextBatch(projectId, keys);
      if (ids.length === 0) return 0;
      const pipeline = await this.contexts.get(ClusteringPipeline, projectId);
      const started = Date.now();
      const stats = await pipeline.process(ids);
      this.metrics.batch('project', ids.length, Date.now() - started, stats);
      return ids.length;
    });
    return held?.result ?? 0;
  }

  /**
   * Up to a batch of ids waiting in the project's set that can be clustered now (not parked,
   * not waiting for an embedding retry), and retries that are due. A scan that went round the
   * set and found nothing rests the project for the idle interval.
   */
  private async nextBatch(projectId: string, keys: Keyspace): Promise<string[]> {
    const feedback = await this.contexts.get(FeedbackRepository, projectId);
    const retries = await this.contexts.get(EmbedRetrySchedule, projectId);
    const limit = this.options.batchMaxItems;
    const ids = new Set(await retries.due(limit));
    let cursor = this.cursors.get(projectId) ?? '0';
    let pages = 0;
    do {
      const [next, page] = await this.redis.sscan(
        keys.feedback.unclustered,
        cursor,
        'COUNT',
        SCAN_COUNT,
      );
      cursor = next;
      pages++;
      const parked = await feedback.parkedAmong(page);
      const notDue = await retries.notDue(page.filter((id) => !parked.has(id)));
      for (const id of page) {
        if (!parked.has(id) && !notDue.has(id) && ids.size < limit) ids.add(id);
      }
    } while (cursor !== '0' && ids.size < limit && pages < 4);
    this.cursors.set(projectId, cursor);
    if (ids.size === 0 && cursor === '0') {
      this.restUntil.set(projectId, Date.now() + this.options.idleMs);
    }
    return [...ids];
  }
}
