import Redis from 'ioredis';
import { encodeInt8Record } from '../../src/item-vectors/int8-record';
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
): Promise<void> {
  const seq = await redis.incr(ServiceKeys.indexSeq);
  await redis
    .multi()
    .hset(ClusterKeys.cluster(id), {
      id,
      status: 'new',
      size: String(size),
      embedding_model: model,
      centroid: JSON.stringify(Array.from(centroid)),
    })
    .sadd(ClusterKeys.all, id)
    .hset(ServiceKeys.anchors, id, encodeInt8Record(centroid, model))
    .zadd(ServiceKeys.indexChanges, seq, id)
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
