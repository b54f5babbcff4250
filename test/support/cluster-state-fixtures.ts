import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { encodeInt8Record } from '../../src/item-vectors/vector-record';
import { normalize } from '../../src/math/vector-math';
import { ClusterKeys, ServiceKeys } from '../../src/redis/keys';

/** A deterministic pseudo-random unit vector (a linear congruential sequence from `seed`). */
export function seededUnitVector(seed: number, dimensions: number): Float32Array {
  let x = seed;
  const v = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    v[i] = x / 2147483648 - 0.5;
  }
  return normalize(v);
}

/** Writes a live cluster as the persist stage leaves it (centroid JSON, int8 anchor, change feed). */
export async function writeLiveCluster(
  redis: Redis,
  id: string,
  centroid: Float32Array,
  model: string,
  size = 3,
  keys: Keyspace = Keyspace.flat(),
): Promise<void> {
  const seq = await redis.incr(keys.service.indexSeq);
  const write = redis.multi().hset(keys.clusters.cluster(id), {
    id,
    status: 'new',
    size: String(size),
    embedding_model: model,
    centroid: JSON.stringify(Array.from(centroid)),
  });
  if (keys.clusters.allIsSorted) write.zadd(keys.clusters.all, Math.floor(Date.now() / 1000), id);
  else write.sadd(keys.clusters.all, id);
  await write
    .hset(keys.service.anchors, id, encodeInt8Record(centroid, model))
    .zadd(keys.service.indexChanges, seq, id)
    .exec();
}

/** Merges a cluster away as merge-clusters.lua does: not live, and a new change-feed entry. */
export async function markMergedAway(redis: Redis, id: string): Promise<void> {
  const seq = await redis.incr(ServiceKeys.indexSeq);
  await redis
    .multi()
    .hset(ClusterKeys.cluster(id), 'status', 'merged')
    .srem(ClusterKeys.all, id)
    .zadd(ServiceKeys.indexChanges, seq, id)
    .exec();
}
