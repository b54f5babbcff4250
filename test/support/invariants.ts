import { Redis } from 'ioredis';
import { ClusterKeys, FeedbackKeys } from '../../src/redis/keys';

/**
 * Asserts CONTRACT §2 "clustered" for each id: a member of exactly one live cluster's item
 * set, `clustered = "true"` with that `cluster_id` and a `clustered_at`, not waiting any more.
 * Also that every live cluster's `size` counts its members. Returns id -> cluster id.
 */
export async function expectClustered(
  redis: Redis,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const live = await redis.smembers(ClusterKeys.all);
  const membership = new Map<string, string[]>();
  for (const clusterId of live) {
    const members = await redis.smembers(ClusterKeys.items(clusterId));
    expect(Number(await redis.hget(ClusterKeys.cluster(clusterId), 'size'))).toBe(members.length);
    for (const id of members) membership.set(id, [...(membership.get(id) ?? []), clusterId]);
  }
  const placed = new Map<string, string>();
  for (const id of ids) {
    const clusters = membership.get(id) ?? [];
    expect({ id, clusters: clusters.length }).toEqual({ id, clusters: 1 });
    const [clustered, clusterId, clusteredAt] = await redis.hmget(
      FeedbackKeys.item(id),
      'clustered',
      'cluster_id',
      'clustered_at',
    );
    expect({ id, clustered, clusterId }).toEqual({ id, clustered: 'true', clusterId: clusters[0] });
    expect(clusteredAt).toEqual(expect.any(String));
    expect(await redis.sismember(FeedbackKeys.unclustered, id)).toBe(0);
    placed.set(id, clusters[0]);
  }
  return placed;
}
