import Redis from 'ioredis';
import { FeedbackKeys } from '../redis/keys';
import { compareStreamIds, RawEntry, StreamEntry, toStreamEntry } from './stream-entry';

type ReadReply = Array<[string, RawEntry[]]> | null;

/**
 * Consumer-group operations on `feedback:events`. Blocking reads use `blocking`, a
 * connection of their own, so they never hold up the commands of the pipeline.
 */
export class EventStream {
  readonly key = FeedbackKeys.events;

  constructor(
    private readonly redis: Redis,
    private readonly blocking: Redis,
    readonly group: string,
    readonly consumer: string,
  ) {}

  /**
   * Creates the group (and the stream) if missing. A new group starts at the beginning of
   * the stream: items announced before the service first ran are clustered too, and
   * reconciliation skips the ones that are already clustered.
   */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.key, this.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('BUSYGROUP')) throw error;
    }
  }

  async groupExists(): Promise<boolean> {
    try {
      const groups = (await this.redis.xinfo('GROUPS', this.key)) as unknown[][];
      return groups.some((g) => g[1] === this.group);
    } catch {
      return false;
    }
  }

  /** New entries: waits up to `blockMs` for the first, returns at most `count`. */
  async readNew(count: number, blockMs: number): Promise<StreamEntry[]> {
    const reply = (await this.blocking.xreadgroup(
      'GROUP',
      this.group,
      this.consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.key,
      '>',
    )) as ReadReply;
    return (reply?.[0]?.[1] ?? []).map(toStreamEntry);
  }

  /** This consumer's own pending entries (delivered before, not acknowledged), oldest first. */
  async readOwnPending(count: number): Promise<StreamEntry[]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      this.group,
      this.consumer,
      'COUNT',
      count,
      'STREAMS',
      this.key,
      '0',
    )) as ReadReply;
    return (reply?.[0]?.[1] ?? []).map(toStreamEntry);
  }

  /**
   * Takes over entries idle longer than `minIdleMs` under any consumer (a dead replica's).
   * Entries deleted from the stream meanwhile are acknowledged: there is nothing to do.
   */
  async claimIdle(minIdleMs: number, count: number): Promise<StreamEntry[]> {
    const [, entries, deleted] = (await this.redis.xautoclaim(
      this.key,
      this.group,
      this.consumer,
      minIdleMs,
      '0',
      'COUNT',
      count,
    )) as [string, RawEntry[], string[] | undefined];
    if (deleted && deleted.length > 0) await this.ack(deleted);
    return entries.filter(([, fields]) => fields !== null).map(toStreamEntry);
  }

  /** Delivery counts of this consumer's pending entries, by entry id. */
  async deliveryCounts(entryIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (entryIds.length === 0) return counts;
    const sorted = [...entryIds].sort(compareStreamIds);
    const rows = (await this.redis.xpending(
      this.key,
      this.group,
      sorted[0],
      sorted[sorted.length - 1],
      Math.max(entryIds.length * 4, 100),
      this.consumer,
    )) as Array<[string, string, number, number]>;
    const wanted = new Set(entryIds);
    for (const [id, , , deliveries] of rows) if (wanted.has(id)) counts.set(id, deliveries);
    return counts;
  }

  async ack(entryIds: readonly string[]): Promise<void> {
    if (entryIds.length > 0) await this.redis.xack(this.key, this.group, ...entryIds);
  }
}
