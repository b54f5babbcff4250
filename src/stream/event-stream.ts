import Redis from 'ioredis';
import { runScript } from '../redis/lua-scripts';
import { compareStreamIds, RawEntry, StreamEntry, toStreamEntry } from './stream-entry';

type ReadReply = Array<[string, RawEntry[]]> | null;

/**
 * Consumer-group operations on one stream (`feedback:events` for feedback, `clustering:jobs`
 * for jobs): both consumers read through this class. Blocking reads use `blocking`, a
 * connection of their own, so they never hold up the commands of the pipeline, and a stopping
 * consumer ends one at once (`interruptRead`). A read that meets NOGROUP (a FLUSHDB, a
 * failover to an empty replica, an operator) recreates the group and reads again, so no
 * consumer is left failing forever.
 */
export class EventStream {
  /** CLIENT ID of `blocking`, learnt before its first read on each connection. */
  private blockingClientId?: number;

  constructor(
    private readonly redis: Redis,
    private readonly blocking: Redis,
    readonly key: string,
    readonly group: string,
    readonly consumer: string,
  ) {
    // A reconnected client has a new id; the old one may name another client after a restart.
    blocking.on('close', () => {
      this.blockingClientId = undefined;
    });
  }

  /**
   * Creates the group (and the stream) if missing. A new group starts at the beginning of
   * the stream: entries added before any consumer first ran are read too.
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
    this.blockingClientId ??= Number(await this.blocking.client('ID'));
    const reply = (await this.withGroup(() =>
      this.blocking.xreadgroup(
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
      ),
    )) as ReadReply;
    return (reply?.[0]?.[1] ?? []).map(toStreamEntry);
  }

  /**
   * Ends the blocking read in progress, which then returns no entries, instead of at its
   * timeout. Not awaited: during an outage the command would wait for Redis, and the read
   * then ends with the connection anyway. A read not yet started blocks as usual.
   */
  interruptRead(): void {
    if (this.blockingClientId === undefined) return;
    this.redis.client('UNBLOCK', this.blockingClientId).catch(() => undefined);
  }

  /** This consumer's own pending entries (delivered before, not acknowledged), oldest first. */
  async readOwnPending(count: number): Promise<StreamEntry[]> {
    const reply = (await this.withGroup(() =>
      this.redis.xreadgroup(
        'GROUP',
        this.group,
        this.consumer,
        'COUNT',
        count,
        'STREAMS',
        this.key,
        '0',
      ),
    )) as ReadReply;
    return (reply?.[0]?.[1] ?? []).map(toStreamEntry);
  }

  /**
   * Takes over entries idle longer than `minIdleMs` under any consumer (a dead replica's).
   * Entries deleted from the stream meanwhile are acknowledged: there is nothing to do.
   */
  async claimIdle(minIdleMs: number, count: number): Promise<StreamEntry[]> {
    const [, entries, deleted] = (await this.withGroup(() =>
      this.redis.xautoclaim(this.key, this.group, this.consumer, minIdleMs, '0', 'COUNT', count),
    )) as [string, RawEntry[], string[] | undefined];
    if (deleted && deleted.length > 0) await this.ack(deleted);
    return entries.filter(([, fields]) => fields !== null).map(toStreamEntry);
  }

  /**
   * Resets the idle time of those of `entryIds` still pending under this consumer, without
   * counting a delivery (XCLAIM JUSTID), so that no other consumer claims entries still in
   * hand; entries another consumer took meanwhile stay its. Returns how many were renewed.
   */
  async renewClaims(entryIds: readonly string[]): Promise<number> {
    if (entryIds.length === 0) return 0;
    const renewed = await runScript(
      this.redis,
      'renewClaims',
      [this.key],
      [this.group, this.consumer, ...entryIds],
    );
    return Number(renewed);
  }

  /** Delivery counts (XPENDING: every read counts) of this consumer's pending entries, by id. */
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

  /** Acknowledges and removes entries nobody needs again (handled jobs). */
  async ackAndDelete(entryIds: readonly string[]): Promise<void> {
    if (entryIds.length === 0) return;
    for (const [error] of (await this.redis
      .multi()
      .xack(this.key, this.group, ...entryIds)
      .xdel(this.key, ...entryIds)
      .exec()) ?? []) {
      if (error) throw error;
    }
  }

  private async withGroup<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!isNoGroup(error)) throw error;
      await this.ensureGroup();
      return read();
    }
  }
}

/** The group (or its stream) is gone: Redis was flushed or failed over to an empty replica. */
export function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}
