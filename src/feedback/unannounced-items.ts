import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { Keyspace } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';
import { KEYSPACE, REDIS } from '../redis/redis.module';

/** Ids examined per script call (one key each). */
const PAGE = 500;
/** Ids after the watermark examined per search at most: the search is bounded, not a full scan. */
const FORWARD_LIMIT = 50_000;
/**
 * Producers write `created_at` themselves, so an item can arrive with a score a little below
 * the watermark (clock skew, a slow write, a retry). Each search looks this far back again.
 */
export const LOOKBACK_SECONDS = 600;
/** Ids of the look-back window examined per search at most (the most recent first). */
const LOOKBACK_LIMIT = 10_000;
/**
 * Ids a slow cursor walks through the whole of `feedback:created` per search, by rank, so an
 * unannounced item written with a far older `created_at` (an import) is found eventually too.
 */
const RESCAN_LIMIT = 5_000;

/** What one search did. */
export interface UnannouncedSearch {
  examined: number;
  /** Ids put into `feedback:unclustered`. */
  adopted: number;
}

/**
 * Finds items that producers wrote without an event or a `feedback:unclustered` entry
 * (CONTRACT §1): a watermark on the `feedback:created` score, kept in `clustering:unannounced`,
 * so each search examines only what came after it (plus a look-back window and a bounded slice
 * of a slow full-coverage cursor). Items found are put into `feedback:unclustered`, where the
 * unclustered pass takes them like any other waiting item.
 */
@Injectable()
export class UnannouncedItems {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
  ) {}

  async search(): Promise<UnannouncedSearch> {
    const [storedWatermark, storedRescan] = await this.redis.hmget(
      this.keys.service.unannounced,
      'watermark',
      'rescan',
    );
    const totals: UnannouncedSearch = { examined: 0, adopted: 0 };
    let watermark = storedWatermark === null ? undefined : Number(storedWatermark);

    if (watermark !== undefined) {
      const lookback = await this.redis.zrevrangebyscore(
        this.keys.feedback.created,
        `(${watermark}`,
        watermark - LOOKBACK_SECONDS,
        'LIMIT',
        0,
        LOOKBACK_LIMIT,
      );
      await this.adopt(lookback, totals);
    }

    // After the watermark (from the start the first time), in score order, a page at a time.
    const from = watermark === undefined ? '-inf' : String(watermark);
    for (let offset = 0; offset < FORWARD_LIMIT; offset += PAGE) {
      const page = await this.redis.zrangebyscore(
        this.keys.feedback.created,
        from,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        offset,
        PAGE,
      );
      const ids = page.filter((_, i) => i % 2 === 0);
      await this.adopt(ids, totals);
      if (ids.length > 0) watermark = Number(page[page.length - 1]);
      if (ids.length < PAGE) break;
    }

    const rescan = Number(storedRescan ?? 0);
    const slice = await this.redis.zrange(
      this.keys.feedback.created,
      rescan,
      rescan + RESCAN_LIMIT - 1,
    );
    await this.adopt(slice, totals);
    const nextRescan = slice.length < RESCAN_LIMIT ? 0 : rescan + slice.length;

    const fields: Record<string, string> = { rescan: String(nextRescan) };
    if (watermark !== undefined) fields.watermark = String(watermark);
    await this.redis.hset(this.keys.service.unannounced, fields);
    return totals;
  }

  private async adopt(ids: readonly string[], totals: UnannouncedSearch): Promise<void> {
    for (let start = 0; start < ids.length; start += PAGE) {
      const chunk = ids.slice(start, start + PAGE);
      const added = (await runScript(
        this.redis,
        'adoptUnannounced',
        [this.keys.feedback.unclustered, ...chunk.map((id) => this.keys.feedback.item(id))],
        chunk,
      )) as number;
      totals.examined += chunk.length;
      totals.adopted += added;
    }
  }
}
