import { Logger } from '@nestjs/common';
import { ClusteringPipeline } from '../pipeline/clustering-pipeline';
import { addStats, BatchStats, emptyStats } from '../pipeline/batch-stats';
import { EmbedRetrySchedule } from '../pipeline/embed/embed-retry-schedule';
import { DeadLetters } from './dead-letters';
import { EventStream } from './event-stream';
import { withLogContext } from '../logging/log-context';
import { gatherMicroBatch } from './micro-batch';
import { feedbackIdOf, StreamEntry } from './stream-entry';

export interface StreamConsumerOptions {
  batchMaxItems: number;
  batchMaxWaitMs: number;
  claimIdleMs: number;
  maxDeliveries: number;
}

/** Receives what each batch did, for metrics and logs. */
export type BatchListener = (batch: {
  entries: number;
  deadLettered: number;
  stats: BatchStats;
  durationMs: number;
}) => void;

const ERROR_BACKOFF_MS = 1000;
const RETRY_CHECK_INTERVAL_MS = 1000;

/**
 * Reads `feedback:events` in the consumer group and runs each micro-batch through the
 * pipeline, acknowledging entries only once their items are persisted (or deliberately
 * parked). Order of work: first this consumer's own pending entries (a restart), then
 * entries idle under dead consumers, then new ones; embedding retries when they are due.
 */
export class StreamConsumer {
  private readonly logger = new Logger(StreamConsumer.name);
  private stopping = false;
  private loop?: Promise<void>;
  private recovering = true;
  private lastClaimAt = 0;
  private lastRetryCheckAt = 0;

  constructor(
    private readonly stream: EventStream,
    private readonly pipeline: ClusteringPipeline,
    private readonly deadLetters: DeadLetters,
    private readonly retries: EmbedRetrySchedule,
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
    if (!this.loop) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.loop.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      // Unacknowledged entries stay pending; another replica claims them once idle.
      this.logger.warn('stopped before the batch in hand finished; its entries stay pending');
    }
    return finished;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const { entries, firstDelivery } = await this.nextEntries();
        // Every log line of a batch carries its id: the first entry's id, or the retry round's.
        const batchId = entries[0]?.entryId ?? `retry-${Date.now()}`;
        await withLogContext({ batch_id: batchId }, () =>
          entries.length > 0 ? this.handle(entries, firstDelivery) : this.processDueRetries(),
        );
      } catch (error) {
        this.recovering = true;
        this.logger.error(`batch failed, will retry: ${describe(error)}`);
        // The stream or the group was deleted under us (FLUSHDB, an operator): make it again.
        if (describe(error).includes('NOGROUP'))
          await this.stream.ensureGroup().catch(() => undefined);
        await sleep(ERROR_BACKOFF_MS);
      }
    }
  }

  /** The next entries to handle; `firstDelivery` when they are new (delivered once, now). */
  private async nextEntries(): Promise<{ entries: StreamEntry[]; firstDelivery: boolean }> {
    const { batchMaxItems, batchMaxWaitMs, claimIdleMs } = this.options;
    if (this.recovering) {
      const own = await this.stream.readOwnPending(batchMaxItems);
      if (own.length > 0) return { entries: own, firstDelivery: false };
      this.recovering = false;
    }
    if (Date.now() - this.lastClaimAt >= claimIdleMs / 2) {
      const claimed = await this.stream.claimIdle(claimIdleMs, batchMaxItems);
      if (claimed.length > 0) {
        this.logger.log(`claimed ${claimed.length} entries idle under other consumers`);
        return { entries: claimed, firstDelivery: false };
      }
      this.lastClaimAt = Date.now();
    }
    if (Date.now() - this.lastRetryCheckAt >= RETRY_CHECK_INTERVAL_MS) {
      return { entries: [], firstDelivery: true };
    }
    const entries = await gatherMicroBatch(this.stream, batchMaxItems, batchMaxWaitMs);
    return { entries, firstDelivery: true };
  }

  /** Runs entries through the pipeline; dead-letters what was delivered too often or is unusable. */
  private async handle(entries: StreamEntry[], firstDelivery: boolean): Promise<void> {
    const started = Date.now();
    // New entries were delivered once, just now: only re-read ones need their count asked.
    const counts = firstDelivery
      ? new Map<string, number>()
      : await this.stream.deliveryCounts(entries.map((e) => e.entryId));
    const dead: Array<{ entry: StreamEntry; reason: string; deliveries?: number }> = [];
    const live: Array<{ entry: StreamEntry; id: string }> = [];
    for (const entry of entries) {
      const deliveries = counts.get(entry.entryId) ?? 1;
      const parsed = feedbackIdOf(entry);
      if ('reason' in parsed) dead.push({ entry, reason: parsed.reason, deliveries });
      else if (deliveries > this.options.maxDeliveries) {
        dead.push({ entry, reason: `delivered ${deliveries} times without success`, deliveries });
      } else live.push({ entry, id: parsed.id });
    }
    await this.deadLetters.add(dead);
    await this.stream.ack(dead.map((d) => d.entry.entryId));
    const redelivered = live.some((l) => (counts.get(l.entry.entryId) ?? 1) > 1);
    const stats = redelivered ? await this.processOneByOne(live) : await this.processTogether(live);
    const durationMs = Date.now() - started;
    this.onBatch({ entries: entries.length, deadLettered: dead.length, stats, durationMs });
    this.logger.debug({
      msg: 'batch done',
      entries: entries.length,
      dead_lettered: dead.length,
      duration_ms: durationMs,
      ...stats,
    });
  }

  private async processTogether(live: Array<{ entry: StreamEntry; id: string }>) {
    const stats = await this.pipeline.process(live.map((l) => l.id));
    await this.stream.ack(live.map((l) => l.entry.entryId));
    return stats;
  }

  /**
   * Entries that failed before are retried one at a time, so that one poisonous item only
   * holds back itself (until it is dead-lettered), not the whole batch.
   */
  private async processOneByOne(live: Array<{ entry: StreamEntry; id: string }>) {
    let total = emptyStats();
    let failures = 0;
    for (const { entry, id } of live) {
      try {
        total = addStats(total, await this.pipeline.process([id]));
        await this.stream.ack([entry.entryId]);
      } catch (error) {
        failures++;
        this.logger.warn(`entry ${entry.entryId} (item ${id}) failed again: ${describe(error)}`);
      }
    }
    if (failures > 0) {
      this.recovering = true;
      await sleep(ERROR_BACKOFF_MS);
    }
    return total;
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
