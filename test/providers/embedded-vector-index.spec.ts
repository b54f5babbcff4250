import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { ClusterStateStore } from '../../src/clusters/cluster-state.store';
import { normalize } from '../../src/math/vector-math';
import { ItemVectors } from '../../src/item-vectors/item-vectors';
import { BatchPersister } from '../../src/pipeline/persist/batch-persister';
import { EmbeddedVectorIndex } from '../../src/providers/embedded/embedded-vector-index';
import { DistributedLock } from '../../src/redis/distributed-lock';
import { ServiceKeys } from '../../src/redis/keys';
import { seededUnitVector } from '../support/cluster-state-fixtures';
import { closeTestRedis, openTestRedis } from '../support/test-redis';
import { TopicEmbedder } from '../support/topic-embedder';

const DIMS = 8;
/** As wide as the local embedder's vectors. */
const WIDE = 1324;
const MODEL = 'test-model';

const randomUnit = (seed: number, dims = DIMS) => seededUnitVector(seed, dims);

/** Persists one new single-item cluster per vector, as the pipeline would. */
async function createClusters(redis: Redis, vectors: Float32Array[], prefix: string) {
  // Long enough for one write of thousands of wide clusters on a busy machine.
  const lease = (await new DistributedLock(redis, ServiceKeys.assignLock, 60_000).acquire(5000))!;
  // The index needs no item vectors: an embedder that recomputes them has none stored.
  const persister = new BatchPersister(
    redis,
    Keyspace.flat(),
    new ItemVectors(redis, Keyspace.flat(), new TopicEmbedder(), 'auto', 4000),
    { queueNew: false, growth: 0.25 },
  );
  const ids = vectors.map((_, i) => `${prefix}${i}`);
  for (const id of ids) {
    await redis.hset(`feedback:${id}`, { id, source: 'manual', title: id, clustered: 'false' });
    await redis.sadd('feedback:unclustered', id);
  }
  const result = await persister.persist(lease, {
    plan: {
      assignments: ids.map((id) => ({ itemId: id, clusterId: `c-${id}`, similarity: 1 })),
      changes: ids.map((id, i) => ({
        state: { id: `c-${id}`, centroid: vectors[i], anchor: vectors[i], size: 1 },
        created: true,
        addedItemIds: [id],
      })),
    },
    vectors: new Map(ids.map((id, i) => [id, vectors[i]])),
    sources: new Map(ids.map((id) => [id, 'manual'])),
    newClusterText: new Map(),
    model: MODEL,
  });
  await new DistributedLock(redis, ServiceKeys.assignLock, 5000).release(lease);
  return result;
}

describe('EmbeddedVectorIndex', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(1)));
  afterEach(async () => closeTestRedis(redis));

  it('sees clusters another replica created, through the change feed', async () => {
    const mine = new EmbeddedVectorIndex(
      new ClusterStateStore(redis, Keyspace.flat()),
      MODEL,
      DIMS,
    );
    await mine.refresh();
    expect(mine.size()).toBe(0);

    // Another replica writes three clusters.
    await createClusters(redis, [randomUnit(1), randomUnit(2), randomUnit(3)], 'other-');
    await mine.refresh();

    expect(mine.size()).toBe(3);
    const [candidates] = await mine.candidates([randomUnit(2)], 1);
    expect(candidates.map((c) => c.id)).toContain('c-other-1');
  });

  it('reloads from the start when the change feed went backwards (FLUSHDB, empty replica)', async () => {
    const index = new EmbeddedVectorIndex(
      new ClusterStateStore(redis, Keyspace.flat()),
      MODEL,
      DIMS,
    );
    await createClusters(redis, [randomUnit(1), randomUnit(2), randomUnit(3)], 'before-');
    await index.refresh();
    expect(index.size()).toBe(3);

    // The data is replaced: the sequence restarts at 1, below the 3 the index has seen.
    await redis.flushdb();
    await createClusters(redis, [randomUnit(4)], 'after-');
    await index.refresh();

    expect(index.size()).toBe(1);
    const [candidates] = await index.candidates([randomUnit(1)], 3);
    expect(candidates.map((c) => c.id)).toEqual(['c-after-0']);
  });

  it('finds the nearest cluster among thousands through the graph', async () => {
    const vectors = Array.from({ length: 2000 }, (_, i) => randomUnit(i + 10));
    await createClusters(redis, vectors, 'x');
    const index = new EmbeddedVectorIndex(
      new ClusterStateStore(redis, Keyspace.flat()),
      MODEL,
      DIMS,
    );
    await index.refresh();

    const [candidates] = await index.candidates([vectors[1234]], 5);
    expect(candidates.length).toBeLessThan(100);
    expect(candidates.map((c) => c.id)).toContain('c-x1234');
  });

  it('finds the cluster a wide vector belongs to, searching the int8 graph and re-ranking exactly', async () => {
    const centroids = Array.from({ length: 1500 }, (_, i) => randomUnit(i + 1, WIDE));
    await createClusters(redis, centroids, 'w');
    const index = new EmbeddedVectorIndex(
      new ClusterStateStore(redis, Keyspace.flat()),
      MODEL,
      WIDE,
    );
    await index.refresh();

    let found = 0;
    const queries = 200;
    for (let q = 0; q < queries; q++) {
      const target = (q * 7) % centroids.length;
      const noise = randomUnit(90_000 + q, WIDE);
      // An item about as close to its cluster as paraphrases are (cosine ≈ 0.7).
      const item = normalize(centroids[target].map((x, i) => x + noise[i]));
      const [candidates] = await index.candidates([item], 10);
      if (candidates.some((c) => c.id === `c-w${target}`)) found++;
    }
    expect(found / queries).toBeGreaterThanOrEqual(0.97);
  });

  it('takes its own writes without reading them back, and only when nothing came between', async () => {
    const index = new EmbeddedVectorIndex(
      new ClusterStateStore(redis, Keyspace.flat()),
      MODEL,
      DIMS,
    );
    await index.refresh();
    const first = await createClusters(redis, [randomUnit(5)], 'a');
    const state = { id: 'c-a0', centroid: randomUnit(5), anchor: randomUnit(5), size: 1 };

    await index.clustersChanged([state], [], first.seq);
    expect(index.size()).toBe(1);

    // A write by someone else moved the feed on: a stale report is ignored, refresh catches up.
    await createClusters(redis, [randomUnit(6)], 'b');
    await index.clustersChanged([{ ...state, id: 'c-phantom' }], [], first.seq + 5);
    expect(index.size()).toBe(1);
    await index.refresh();
    expect(index.size()).toBe(2);
  });

  it('leaves out clusters made by another embedding model', async () => {
    await createClusters(redis, [randomUnit(7)], 'm');
    const index = new EmbeddedVectorIndex(
      new ClusterStateStore(redis, Keyspace.flat()),
      'another-model',
      DIMS,
    );
    await index.refresh();
    expect(index.size()).toBe(0);
  });

  it('reuses the graph slots of removed clusters, so merges and re-creation do not grow it', async () => {
    const index = new EmbeddedVectorIndex(
      new ClusterStateStore(redis, Keyspace.flat()),
      MODEL,
      DIMS,
    );
    const state = (id: string, seed: number) => {
      const v = randomUnit(seed);
      return { id, centroid: v, anchor: v, size: 1 };
    };
    let seq = 0;
    const live = Array.from({ length: 500 }, (_, i) => state(`c${i}`, i + 1));
    await index.clustersChanged(live, [], (seq += live.length));
    const capacity = index.graphCapacity();

    // Ten rounds: 200 clusters merged away, 200 new ones created.
    for (let round = 0; round < 10; round++) {
      const gone = live.splice(0, 200).map((c) => c.id);
      const born = Array.from({ length: 200 }, (_, i) =>
        state(`r${round}-${i}`, 10_000 + round * 1000 + i),
      );
      live.push(...born);
      await index.clustersChanged(born, gone, (seq += born.length + gone.length));
    }

    expect(index.size()).toBe(500);
    expect(index.graphCapacity()).toBe(capacity);
    const [candidates] = await index.candidates([live[123].centroid], 10);
    expect(candidates.map((c) => c.id)).toContain(live[123].id);
  });
});
