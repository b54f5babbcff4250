import Redis from 'ioredis';
import { Keyspace } from '../redis/keyspace';

/**
 * What people decided that the sweeps must respect (written by `lua/includes/control.lua`):
 * clusters kept apart (split from each other) are never merged automatically, and items a
 * person placed are never moved by a sweep.
 */
export class ControlPins {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  /** For each of `ids`, the clusters it is kept apart from (absent: none). */
  async apartFrom(ids: readonly string[]): Promise<Map<string, Set<string>>> {
    const apart = new Map<string, Set<string>>();
    if (ids.length === 0) return apart;
    const lists = await this.redis.hmget(this.keys.service.keptApart, ...ids);
    ids.forEach((id, i) => {
      const list = lists[i];
      if (list) apart.set(id, new Set(JSON.parse(list) as string[]));
    });
    return apart;
  }

  async keptApart(a: string, b: string): Promise<boolean> {
    return (await this.apartFrom([a])).get(a)?.has(b) ?? false;
  }

  /** Those of `itemIds` that a person placed. */
  async pinnedItems(itemIds: readonly string[]): Promise<Set<string>> {
    if (itemIds.length === 0) return new Set();
    const clusters = await this.redis.hmget(this.keys.service.pinnedItems, ...itemIds);
    return new Set(itemIds.filter((_, i) => clusters[i] !== null));
  }
}
