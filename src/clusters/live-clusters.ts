import Redis, { ChainableCommander } from 'ioredis';
import { Keyspace } from '../redis/keyspace';

/**
 * Reads the live-cluster key of either layout: a set in the flat one (`clusters:all`), a
 * sorted set by creation time in the project one (`clusters:{pid}:all`, CONTRACT §7).
 */
export class LiveClusters {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  /** Every live cluster id. */
  async ids(): Promise<string[]> {
    const key = this.keys.clusters.all;
    return this.keys.clusters.allIsSorted
      ? this.redis.zrange(key, 0, -1)
      : this.redis.smembers(key);
  }

  /** The live ones among `ids`, as flags in their order. */
  async flags(ids: readonly string[]): Promise<boolean[]> {
    if (ids.length === 0) return [];
    const key = this.keys.clusters.all;
    if (this.keys.clusters.allIsSorted) {
      return (await this.redis.zmscore(key, ...ids)).map((score) => score !== null);
    }
    return (await this.redis.smismember(key, ...ids)).map((flag) => flag === 1);
  }

  async count(): Promise<number> {
    const key = this.keys.clusters.all;
    return this.keys.clusters.allIsSorted ? this.redis.zcard(key) : this.redis.scard(key);
  }

  /** Queues a liveness check of `id` on `pipeline`; its reply reads with `isLiveReply`. */
  queueCheck(pipeline: ChainableCommander, id: string): void {
    if (this.keys.clusters.allIsSorted) pipeline.zscore(this.keys.clusters.all, id);
    else pipeline.sismember(this.keys.clusters.all, id);
  }

  isLiveReply(reply: unknown): boolean {
    return this.keys.clusters.allIsSorted ? reply !== null && reply !== undefined : reply === 1;
  }
}
