import Redis from 'ioredis';
import { ItemVectors } from '../../src/item-vectors/item-vectors';
import { AssignmentPlan } from '../../src/pipeline/assign/assign-batch';
import { BatchPersister } from '../../src/pipeline/persist/batch-persister';
import { DistributedLock } from '../../src/redis/distributed-lock';
import { Keyspace } from '../../src/redis/keyspace';
import { TopicEmbedder } from './topic-embedder';

/** Item vectors as the local embedder has them: recomputed from the text, not stored. */
export function vectorsOf(redis: Redis, keys = Keyspace.flat()): ItemVectors {
  return new ItemVectors(redis, keys, new TopicEmbedder(), 'auto', 4000);
}

/** Persists one new cluster of `size` items in `keys`, as the pipeline would (queue entry included). */
export async function persistQueuedCluster(
  redis: Redis,
  clusterId: string,
  size: number,
  keys = Keyspace.flat(),
): Promise<void> {
  const ids = Array.from({ length: size }, (_, i) => `${clusterId}-item${i}`);
  for (const id of ids) {
    await redis.hset(keys.feedback.item(id), {
      id,
      source: 'reddit',
      title: `login fails ${id}`,
      body: '',
      clustered: 'false',
    });
    await redis.sadd(keys.feedback.unclustered, id);
  }
  const v = Float32Array.from([1, 0]);
  const plan: AssignmentPlan = {
    assignments: ids.map((itemId) => ({ itemId, clusterId, similarity: 1 })),
    changes: [
      { state: { id: clusterId, centroid: v, anchor: v, size }, created: true, addedItemIds: ids },
    ],
  };
  const lock = new DistributedLock(redis, keys.service.assignLock, 5000);
  const lease = (await lock.acquire(5000))!;
  await new BatchPersister(redis, keys, vectorsOf(redis, keys), {
    queueNew: true,
    growth: 0.25,
  }).persist(lease, {
    plan,
    vectors: new Map(ids.map((id) => [id, v])),
    sources: new Map(ids.map((id) => [id, 'reddit'])),
    newClusterText: new Map(),
    model: 'test-model',
  });
  await lock.release(lease);
}
