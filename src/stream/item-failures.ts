import Redis from 'ioredis';
import { SharedKeys } from '../redis/keyspace';

/**
 * The service's own count of attempts that failed because of the item itself, per stream
 * entry (`clustering:stream:item-failures`). XPENDING's delivery counter cannot tell an
 * outage from a poisonous item (every read bumps it), so it never decides a dead letter;
 * this count does. An attempt is counted when it starts, with the entry alone in hand; an
 * outage during it keeps the same attempt open (retried, not counted again), and a stop
 * during that outage takes it back. A process that dies during it (the item crashed it, or a
 * kill) leaves the count standing.
 */
export class ItemFailureCounts {
  constructor(private readonly redis: Redis) {}

  /** Counts one more attempt of `entryId` on its own; returns the attempts so far. */
  async begin(entryId: string): Promise<number> {
    return this.redis.hincrby(SharedKeys.streamItemFailures, entryId, 1);
  }

  /** Takes back the attempt begun last: the consumer stopped during an outage, not the item's doing. */
  async takeBack(entryId: string): Promise<void> {
    await this.redis.hincrby(SharedKeys.streamItemFailures, entryId, -1);
  }

  /** The counted attempts of each entry (0 when none). */
  async of(entryIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (entryIds.length === 0) return counts;
    const values = await this.redis.hmget(SharedKeys.streamItemFailures, ...entryIds);
    entryIds.forEach((id, i) => counts.set(id, Number(values[i] ?? 0) || 0));
    return counts;
  }

  /** Forgets entries that were acknowledged or dead-lettered. */
  async forget(entryIds: readonly string[]): Promise<void> {
    if (entryIds.length > 0) await this.redis.hdel(SharedKeys.streamItemFailures, ...entryIds);
  }
}
