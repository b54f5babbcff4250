import Redis from 'ioredis';
import { ClusterKeys, ServiceKeys } from '../../src/redis/keys';

/**
 * A live cluster with these members, as the persist stage leaves it (member hashes with
 * `cluster_id`, the service's membership record), for specs of the sweep's scripts.
 */
export async function liveCluster(redis: Redis, id: string, members: string[]): Promise<void> {
  await redis.sadd(ClusterKeys.all, id);
  await redis.sadd(ClusterKeys.items(id), ...members);
  await redis.hset(ClusterKeys.cluster(id), { id, size: members.length, sources: '["manual"]' });
  for (const m of members) {
    await redis.hset(`feedback:${m}`, { id: m, source: 'manual', cluster_id: id });
    await redis.hset(ServiceKeys.membership, m, id);
  }
}
