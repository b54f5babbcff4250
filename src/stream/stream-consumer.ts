import { finishesWithin } from '../lifecycle/shutdown-deadline';
import { Logger } from '@nestjs/common';
import { ClusteringPipeline } from '../pipeline/clustering-pipeline';
import { addStats, BatchStats, emptyStats } from '../pipeline/batch-stats';
import { EmbedRetrySchedule } from '../pipeline/embed/embed-retry-schedule';
import { withLogContext } from '../logging/log-context';
import { Backoff } from './backoff';
import { holdClaims } from './claim-keeper';
import { DeadLetters } from './dead-letters';
import { EventStream } from './event-stream';
import { isTransientFailure } from './failure-kind';
import { ItemFailureCounts } from './item-failures';
import { gatherMicroBatch } from './micro-batch';
import { feedbackIdOf, StreamEntry } from './stream-entry';

export interface StreamConsumerOptions {
  batchMaxItems: number;
  batchMaxWaitMs: number;
  claimIdleMs: number;
  /** Attempts failing because of the item itself after which an entry is dead-lettered. */
  maxDeliveries: number;
}

/** Receives what each batch did, for metrics and logs. */
export type BatchListener = (batch: {
  entries: number;
  deadLettered: number;
  stats: BatchStats;
  durationMs: number;
}) => void;

/** What the consumer runs each batch through (the clustering pipeline). */
export type BatchProcessor = Pick<ClusteringPipeline, 'process'>;

const RETRY_CHECK_INTERVAL_MS = 1000;
/**
 * An entry read this often (XPENDING) was lost twice by the consumers holding it (crashed,
 * killed, stopped mid-batch): it is processed alone from then on, so that an item that kills
 * its process is isolated and its attempts counted.
 */
const LOST_TWICE_DELIVERIES = 3;

interface LiveEntry {
  entry: StreamEntry;
  id: string;
}

/**
 * Reads `feedback:events` in the consumer group and runs each micro-batch through the
 * pipeline, acknowledging entries only once their items are persisted (or deliberately
 * parked). Order of work: first this consumer's own pending entries (a restart), then
 * entries idle under dead consumers, then new ones; embedding retries when they are due.
 *
 * Failures: an outage (see `isTransientFailure`) keeps the batch in hand and retries it
 * after an exponential, capped, jittered pause, without re-reading it (so XPENDING counts
 * no delivery) and without counting anything towards MAX_DELIVERIES. Any other failure may
 * be an item's: the batch is split and each entry tried alone, and only those attempts are
 * counted (`ItemFailureCounts`); an entry whose count reaches MAX_DELIVERIES is
 * dead-lettered. While a batch is in hand its claim is renewed, so however slow it is, no
 * other replica claims it.
 */
export class StreamConsumer {
  private readonly logger = new Logger(StreamConsumer.name);
  private readonly backoff = new Backoff();
  private stopping = false;
  private loop?: Promise<void>;
  private recovering = true;
  private lastClaimAt = 0;
  private lastRetryCheckAt = 0;

  constructor(
    private readonly stream: EventStream,
    private readonly pipeline: BatchProcessor,
    private readonly deadLetters: DeadLetters,
    private readonly retries: EmbedRetrySchedule,
    private readonly failures: ItemFailureCounts,
    private readonly options: StreamConsumerOptions,
    private readonly onBatch: BatchListener = () => {},
  ) {}

  get name(): string {
    return this.stream.consumer;
  }

  async start(): Promise<void> {
    await this.stream.ensureGroup();
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops reading and waits for the batch in hand, at most `timeoutMs`. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    this.backoff.interrupt();
    if (!this.loop) return true;
    this.stream.interruptRead();
    const finished = await finishesWithin(this.loop, timeoutMs);
    if (!finished) {
      // Unacknowledged entries stay pending; another replica claims them once idle.
      this.logger.warn('stopped before the batch in hand finished; its entries stay pending');
    }
    return finished;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const { entries, redelivered } = await this.nextEntries();
        // Every log line of a batch carries its id: the first entry's id, or the retry round's.
        const batchId = entries[0]?.entryId ?? `retry-${Date.now()}`;
        await withLogContext({ batch_id: batchId }, () =>
          entries.length > 0 ? this.handle(entries, redelivered) : this.processDueRetries(),
        );
        this.backoff.reset();
      } catch (error) {
        // Entries read but not handled stay pending under this consumer: read them again.
        this.recovering = true;
        this.logger.error(`consumer step failed, will retry: ${describe(error)}`);
        if (!this.stopping) await this.backoff.wait();
      }
    }
  }

  /** The next entries to handle; `redelivered` when they were read before (by anyone). */
  private async nextEntries(): Promise<{ entries: StreamEntry[]; redelivered: boolean }> {
    const { batchMaxItems, batchMaxWaitMs, claimIdleMs } = this.options;
    if (this.recovering) {
      const own = await this.stream.readOwnPending(batchMaxItems);
      if (own.length > 0) return { entries: own, redelivered: true };
      this.recovering = false;
    }
    if (Date.now() - this.lastClaimAt >= claimIdleMs / 2) {
      const claimed = await this.stream.claimIdle(claimIdleMs, batchMaxItems);
      if (claimed.length > 0) {
        this.logger.log(`claimed ${claimed.length} entries idle under other consumers`);
        return { entries: claimed, redelivered: true };
      }
      this.lastClaimAt = Date.now();
    }
    if (Date.now() - this.lastRetryCheckAt >= RETRY_CHECK_INTERVAL_MS) {
      return { entries: [], redelivered: false };
    }
    const entries = await gatherMicroBatch(this.stream, batchMaxItems, batchMaxWaitMs);
    return { entries, redelivered: false };
  }

  /** Runs entries through the pipeline; dead-letters unusable ones and poisonous ones. */
  private async handle(entries: StreamEntry[], redelivered: boolean): Promise<void> {
    const started = Date.now();
    const dead: Array<{ entry: StreamEntry; reason: string; deliveries?: number }> = [];
    const live: LiveEntry[] = [];
    for (const entry of entries) {
      const parsed = feedbackIdOf(entry);
      if ('reason' in parsed) dead.push({ entry, reason: parsed.reason });
      else live.push({ entry, id: parsed.id });
    }
    await this.deadLetters.add(dead);
    await this.stream.ack(dead.map((d) => d.entry.entryId));

    const held = holdClaims(
      this.stream,
      live.map((l) => l.entry.entryId),
      this.options.claimIdleMs,
    );
    let outcome: { stats: BatchStats; deadLettered: number };
    try {
      outcome = await this.processLive(live, redelivered);
    } finally {
      held.release();
    }
    const deadLettered = dead.length + outcome.deadLettered;
    const durationMs = Date.now() - started;
    this.onBatch({ entries: entries.length, deadLettered, stats: outcome.stats, durationMs });
    this.logger.debug({
      msg: 'batch done',
      entries: entries.length,
      dead_lettered: deadLettered,
      duration_ms: durationMs,
      ...outcome.stats,
    });
  }

  /**
   * New entries go through together. Re-read ones go alone when an attempt of theirs was
   * counted already or they were lost twice; the rest together. A batch that fails other
   * than by an outage is split, each entry then alone.
   */
  private async processLive(live: LiveEntry[], redelivered: boolean) {
    let suspects: LiveEntry[] = [];
    let together = live;
    if (redelivered && live.length > 0) {
      const ids = live.map((l) => l.entry.entryId);
      const [counted, deliveries] = await Promise.all([
        this.failures.of(ids),
        this.stream.deliveryCounts(ids),
      ]);
      const alone = (l: LiveEntry) =>
        (counted.get(l.entry.entryId) ?? 0) > 0 ||
        (deliveries.get(l.entry.entryId) ?? 1) >= LOST_TWICE_DELIVERIES;
      suspects = live.filter(alone);
      together = live.filter((l) => !alone(l));
    }
    let stats = emptyStats();
    if (together.length > 0) {
      const result = await this.processTogether(together);
      if (result === 'split') suspects = [...suspects, ...together];
      else if (result) stats = result;
    }
    let deadLettered = 0;
    for (const suspect of suspects) {
      if (this.stopping) break;
      const result = await this.processAlone(suspect);
      if (result === 'dead-lettered') deadLettered++;
      else if (result) stats = addStats(stats, result);
    }
    return { stats, deadLettered };
  }

  /** The batch's stats, 'split' when it failed other than by an outage, undefined if stopped. */
  private async processTogether(live: LiveEntry[]): Promise<BatchStats | 'split' | undefined> {
    for (;;) {
      try {
        const stats = await this.pipeline.process(live.map((l) => l.id));
        await this.stream.ack(live.map((l) => l.entry.entryId));
        this.backoff.reset();
        return stats;
      } catch (error) {
        if (!isTransientFailure(error)) {
          this.logger.warn(`batch of ${live.length} failed, trying each alone: ${describe(error)}`);
          return 'split';
        }
        if (!(await this.pauseAfterOutage(error, live.length))) return undefined;
      }
    }
  }

  /**
   * One entry alone. Each attempt is counted when it starts (so a crash it causes counts);
   * an outage keeps that same attempt open and retries after the backoff; a failure of the
   * item's own ends it. At MAX_DELIVERIES counted attempts the entry is dead-lettered.
   */
  private async processAlone({ entry, id }: LiveEntry) {
    let counted: number | undefined;
    for (;;) {
      try {
        counted ??= await this.failures.begin(entry.entryId);
        const stats = await this.pipeline.process([id]);
        await this.stream.ack([entry.entryId]);
        await this.failures.forget([entry.entryId]);
        this.backoff.reset();
        return stats;
      } catch (error) {
        if (isTransientFailure(error)) {
          if (await this.pauseAfterOutage(error, 1)) continue;
          if (counted !== undefined) await this.failures.takeBack(entry.entryId).catch(() => {});
          return undefined;
        }
        if (counted === undefined) throw error; // the count itself failed: not the item's doing
        const reason = `failed ${counted} times on its own: ${describe(error)}`;
        if (counted >= this.options.maxDeliveries) {
          await this.deadLetters.add([{ entry, reason, deliveries: counted }]);
          await this.stream.ack([entry.entryId]);
          await this.failures.forget([entry.entryId]);
          this.logger.warn(`entry ${entry.entryId} (item ${id}) dead-lettered: ${reason}`);
          return 'dead-lettered' as const;
        }
        this.logger.warn(`entry ${entry.entryId} (item ${id}) ${reason}`);
        counted = undefined;
      }
    }
  }

  /** Waits out an outage; false when a stop was requested (the entries stay pending). */
  private async pauseAfterOutage(error: unknown, entries: number): Promise<boolean> {
    if (this.stopping) return false;
    this.logger.warn(
      `outage (attempt ${this.backoff.attempts + 1}), keeping ${entries} entries pending: ${describe(error)}`,
    );
    await this.backoff.wait();
    return !this.stopping;
  }

  private async processDueRetries(): Promise<void> {
    this.lastRetryCheckAt = Date.now();
    const due = await this.retries.due(this.options.batchMaxItems);
    if (due.length === 0) return;
    const started = Date.now();
    const stats = await this.pipeline.process(due);
    this.onBatch({ entries: 0, deadLettered: 0, stats, durationMs: Date.now() - started });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
