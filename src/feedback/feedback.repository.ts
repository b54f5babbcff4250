import Redis from 'ioredis';
import { Keyspace } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';
import { FeedbackItem, parseFeedbackHash } from './feedback-item';

/** An id offered for clustering, as found in Redis. */
export interface FeedbackLookup {
  id: string;
  /** In `feedback:unclustered`. */
  waiting: boolean;
  /** Undefined when the hash is missing or unreadable. */
  item?: FeedbackItem;
  /** Why the key could not be read as a feedback hash (e.g. it holds another type). */
  unreadable?: string;
}

/*
 * Reasons earlier versions parked items for that are content now: text of emoji, digits or
 * punctuation alone ("👍👍", "10/10", "???") is clustered (CONTRACT §1).
 */
const RETIRED_PARK_REASONS: ReadonlySet<string> = new Set(['no readable text', 'no words in text']);

function isRetiredParking(record: string | null): boolean {
  try {
    const { reason } = JSON.parse(record ?? '{}') as { reason?: unknown };
    return typeof reason === 'string' && RETIRED_PARK_REASONS.has(reason);
  } catch {
    return false;
  }
}

/** Reads feedback for clustering and records the items the service gives up on. */
export class FeedbackRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  async lookup(ids: readonly string[]): Promise<FeedbackLookup[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) {
      pipeline.sismember(this.keys.feedback.unclustered, id);
      pipeline.hgetall(this.keys.feedback.item(id));
    }
    const replies = (await pipeline.exec()) ?? [];
    return ids.map((id, i) => {
      const [waitErr, waiting] = replies[i * 2];
      const [hashErr, hash] = replies[i * 2 + 1];
      if (waitErr) throw waitErr;
      // A key of another type is this item's problem, not the batch's: it is parked.
      if (hashErr?.message.startsWith('WRONGTYPE')) {
        return { id, waiting: waiting === 1, unreadable: 'feedback key is not a hash' };
      }
      if (hashErr) throw hashErr;
      return {
        id,
        waiting: waiting === 1,
        item: parseFeedbackHash(id, hash as Record<string, string>),
      };
    });
  }

  /** The ids among `ids` still waiting in `feedback:unclustered`. */
  async stillWaiting(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const flags = await this.redis.smismember(this.keys.feedback.unclustered, ...ids);
    return new Set(ids.filter((_, i) => flags[i] === 1));
  }

  /**
   * Puts clustered items back to waiting (their text changed while they were embedded, see
   * `requeue-items.lua`); returns how many were put back.
   */
  async requeue(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await runScript(
      this.redis,
      'requeueItems',
      [this.keys.feedback.unclustered, ...ids.map((id) => this.keys.feedback.item(id))],
      ids,
    )) as number;
  }

  /** A waiting id whose hash is gone: nothing left to cluster, so it stops waiting. */
  async forgetMissing(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.srem(this.keys.feedback.unclustered, ...ids);
  }

  /**
   * Parks items that can never be clustered as they are (e.g. no text). They stay in
   * `feedback:unclustered`, so they are counted and never silently dropped; an update
   * event for the item takes it out of the parking lot and tries again.
   */
  async park(parked: ReadonlyArray<{ id: string; reason: string }>): Promise<void> {
    if (parked.length === 0) return;
    const at = new Date().toISOString();
    const fields = parked.flatMap(({ id, reason }) => [id, JSON.stringify({ reason, at })]);
    await this.redis.hset(this.keys.service.parked, ...fields);
  }

  async unpark(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.hdel(this.keys.service.parked, ...ids);
  }

  /**
   * The ids among `ids` that are parked, except those parked for a reason this version no
   * longer parks for: jobs and sweeps offer those again.
   */
  async parkedAmong(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const values = await this.redis.hmget(this.keys.service.parked, ...ids);
    return new Set(ids.filter((_, i) => values[i] !== null && !isRetiredParking(values[i])));
  }
}
