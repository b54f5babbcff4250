import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { LiveClusters } from '../clusters/live-clusters';
import { Keyspace } from '../redis/keyspace';
import { KEYSPACE, REDIS } from '../redis/redis.module';

/** Entries each pruning pass looks at per sweep: bounded work, resumed by the next sweep. */
const ENTRIES_PER_SWEEP = 2000;
/**
 * Change-feed entries of removed clusters are kept for the last this many changes, so that a
 * replica a little behind still sees the removal; one further behind reads the feed from the
 * start (`clustering:index:pruned-seq`).
 */
const CHANGES_KEPT = 10_000;

export interface PruneStats {
  parked: number;
  summaries: number;
  changes: number;
}

/**
 * Keeps keys that would otherwise only grow bounded (README "Keys the service keeps"), a few
 * thousand entries per sweep, each pass resuming from its cursor in `clustering:prune:cursors`:
 * - `parked`: entries of items no longer waiting (clustered after an update, or deleted);
 * - `summaries:size`: entries of clusters no longer live (merged away, deleted);
 * - `index:changes`: entries of clusters no longer live, once more than 10,000 changes old.
 */
@Injectable()
export class KeyPruner {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
  ) {}

  async prune(): Promise<PruneStats> {
    return {
      parked: await this.pruneHash('parked', this.keys.service.parked, async (ids) =>
        (await this.redis.smismember(this.keys.feedback.unclustered, ...ids)).map((f) => f === 1),
      ),
      summaries: await this.pruneHash('summaries', this.keys.service.summarizedAt, (ids) =>
        new LiveClusters(this.redis, this.keys).flags(ids),
      ),
      changes: await this.pruneChanges(),
    };
  }

  /** Removes the fields of `hash` whose id `stillNeeded` says is not. */
  private async pruneHash(
    cursorName: string,
    hash: string,
    stillNeeded: (ids: string[]) => Promise<boolean[]>,
  ): Promise<number> {
    let cursor = (await this.redis.hget(this.keys.service.pruneCursors, cursorName)) ?? '0';
    let seen = 0;
    let removed = 0;
    do {
      const [next, flat] = await this.redis.hscan(hash, cursor, 'COUNT', 500);
      cursor = next;
      const ids = flat.filter((_, i) => i % 2 === 0);
      seen += ids.length;
      if (ids.length === 0) continue;
      const needed = await stillNeeded(ids);
      const gone = ids.filter((_, i) => !needed[i]);
      if (gone.length > 0) removed += await this.redis.hdel(hash, ...gone);
    } while (cursor !== '0' && seen < ENTRIES_PER_SWEEP);
    await this.redis.hset(this.keys.service.pruneCursors, cursorName, cursor);
    return removed;
  }

  /** Removes old change-feed entries of removed clusters and records how far it pruned. */
  private async pruneChanges(): Promise<number> {
    const seqNow = Number((await this.redis.get(this.keys.service.indexSeq)) ?? 0);
    const horizon = seqNow - CHANGES_KEPT;
    const from = Number((await this.redis.hget(this.keys.service.pruneCursors, 'changes')) ?? 0);
    if (horizon <= from) return 0;
    const flat = await this.redis.zrangebyscore(
      this.keys.service.indexChanges,
      `(${from}`,
      horizon,
      'WITHSCORES',
      'LIMIT',
      0,
      ENTRIES_PER_SWEEP,
    );
    if (flat.length === 0) {
      await this.redis.hset(this.keys.service.pruneCursors, 'changes', horizon);
      return 0;
    }
    const ids = flat.filter((_, i) => i % 2 === 0);
    const live = await new LiveClusters(this.redis, this.keys).flags(ids);
    const gone = ids.filter((_, i) => !live[i]);
    const last = Number(flat[flat.length - 1]);
    // The marker first: a reader must never miss a removal it cannot see any more.
    if (gone.length > 0) {
      await this.redis.set(this.keys.service.indexPrunedSeq, last);
      await this.redis.zrem(this.keys.service.indexChanges, ...gone);
    }
    await this.redis.hset(this.keys.service.pruneCursors, 'changes', last);
    return gone.length;
  }
}
