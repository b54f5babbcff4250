import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { pageOf } from '../clusters/cluster-reader';
import { Page } from '../http/page-cursor';
import { Keyspace, SharedKeys } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';
import { KEYSPACE, REDIS } from '../redis/redis.module';

/** One parked item as served over HTTP. */
export interface ParkedItemView {
  feedback_id: string;
  reason: string;
  /** When it was parked (ISO 8601); null when the record does not say. */
  at: string | null;
}

/** Ids released per script call. */
const RELEASE_CHUNK = 500;

/**
 * The items one project parked as unprocessable (`clustering:parked`), newest first, and their
 * release (`release-parked.lua`): out of the parking lot and announced again, so that the
 * pipeline tries them once more.
 */
@Injectable()
export class ParkedItems {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
  ) {}

  /** Newest first, then by id; paged with a keyset cursor on (parked at, id). */
  async list(limit: number, cursor?: string): Promise<Page<ParkedItemView>> {
    const records = await this.redis.hgetall(this.keys.service.parked);
    const views = new Map(Object.entries(records).map(([id, raw]) => [id, parkedView(id, raw)]));
    const ranked = [...views.values()].map((v) => ({
      id: v.feedback_id,
      value: v.at === null ? 0 : Date.parse(v.at) || 0,
    }));
    const { page, next } = pageOf(ranked, limit, cursor);
    return { items: page.map((r) => views.get(r.id) as ParkedItemView), next_cursor: next };
  }

  /** Releases the given parked items (all of them when `ids` is undefined); how many were. */
  async release(ids?: readonly string[]): Promise<number> {
    const all = ids ?? (await this.redis.hkeys(this.keys.service.parked));
    let released = 0;
    for (let i = 0; i < all.length; i += RELEASE_CHUNK) {
      released += (await runScript(
        this.redis,
        'releaseParked',
        [this.keys.service.parked, SharedKeys.events],
        [Date.now(), ...all.slice(i, i + RELEASE_CHUNK)],
        this.keys,
      )) as number;
    }
    return released;
  }
}

/** A record is JSON {reason, at}; one that is not is shown as the reason it holds. */
function parkedView(id: string, raw: string): ParkedItemView {
  try {
    const parsed = JSON.parse(raw) as { reason?: unknown; at?: unknown };
    return {
      feedback_id: id,
      reason: typeof parsed.reason === 'string' ? parsed.reason : raw,
      at: typeof parsed.at === 'string' ? parsed.at : null,
    };
  } catch {
    return { feedback_id: id, reason: raw, at: null };
  }
}
