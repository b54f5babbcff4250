import Redis from 'ioredis';
import { Keyspace } from '../../redis/keyspace';

const BASE_DELAY_MS = 5_000;
const MAX_DELAY_MS = 60 * 60_000;

/** Exponential backoff with full jitter: attempt 1 waits up to 5 s, doubling, capped at an hour. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Items whose embedding failed stay in `feedback:unclustered` and are retried with backoff:
 * this schedule says when each is due again.
 */
export class EmbedRetrySchedule {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  async recordFailures(ids: readonly string[], now = Date.now()): Promise<void> {
    if (ids.length === 0) return;
    const counts = this.redis.pipeline();
    for (const id of ids) counts.hincrby(this.keys.service.embedFailures, id, 1);
    const attempts = ((await counts.exec()) ?? []).map(([, n]) => Number(n));
    const schedule = this.redis.pipeline();
    ids.forEach((id, i) =>
      schedule.zadd(this.keys.service.retryAfter, now + retryDelayMs(attempts[i]), id),
    );
    await schedule.exec();
  }

  async clear(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis
      .multi()
      .hdel(this.keys.service.embedFailures, ...ids)
      .zrem(this.keys.service.retryAfter, ...ids)
      .exec();
  }

  /** The ids among `ids` waiting for a retry time that has not come yet. */
  async notDue(ids: readonly string[], now = Date.now()): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const at = await this.redis.zmscore(this.keys.service.retryAfter, ...ids);
    return new Set(ids.filter((_, i) => at[i] !== null && Number(at[i]) > now));
  }

  /** Up to `limit` ids whose retry time has come. */
  async due(limit: number, now = Date.now()): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.service.retryAfter, '-inf', now, 'LIMIT', 0, limit);
  }
}
