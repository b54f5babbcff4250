import Redis from 'ioredis';
import { ItemVectors } from '../../src/item-vectors/item-vectors';
import { AssignmentPlan } from '../../src/pipeline/assign/assign-batch';
import { BatchPersister, PersistInput } from '../../src/pipeline/persist/batch-persister';
import { Embedder } from '../../src/ports/embedder.port';
import { DistributedLock, LockLease } from '../../src/redis/distributed-lock';
import { Keyspace } from '../../src/redis/keyspace';
import { runScript } from '../../src/redis/lua-scripts';
import { mergeClustersKeys } from '../../src/sweep/cluster-merger';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const v = (...xs: number[]) => Float32Array.from(xs);
const HOUR_S = 3600;
const DAY_S = 86400;

/** Trend buckets written by persist-batch.lua (lua/includes/trend-buckets.lua) and merge-clusters.lua. */
describe.each([
  ['flat', Keyspace.flat()],
  ['project', Keyspace.project('clxtrends0000project01')],
])('trend buckets (%s layout)', (_layout, keys) => {
  let redis: Redis;
  let lease: LockLease;
  let persister: BatchPersister;
  const embedder: Embedder = {
    model: 'test-model',
    dimensions: 2,
    cheapToRecompute: true,
    embed: async (texts) => texts.map(() => ({ ok: true, vector: v(1, 0) })),
  };

  async function waitingItem(id: string) {
    await redis.hset(keys.feedback.item(id), {
      id,
      source: 'reddit',
      title: `t ${id}`,
      body: '',
      clustered: 'false',
    });
    await redis.sadd(keys.feedback.unclustered, id);
  }

  function input(clusterId: string, created: boolean, itemIds: string[], size: number) {
    const plan: AssignmentPlan = {
      assignments: itemIds.map((itemId) => ({ itemId, clusterId, similarity: 1 })),
      changes: [
        {
          state: { id: clusterId, centroid: v(0.6, 0.8), anchor: v(1, 0), size },
          created,
          addedItemIds: itemIds,
        },
      ],
    };
    const persistInput: PersistInput = {
      plan,
      vectors: new Map(itemIds.map((id) => [id, v(1, 0)])),
      sources: new Map(itemIds.map((id) => [id, 'reddit'])),
      newClusterText: new Map(),
      model: 'test-model',
    };
    return persistInput;
  }

  /** The current epoch hour and day, read around `work` so an hour boundary cannot fool a test. */
  async function during<T>(work: () => Promise<T>) {
    const before = Math.floor(Date.now() / 1000);
    const result = await work();
    const after = Math.floor(Date.now() / 1000);
    return { result, hours: [before, after].map((s) => Math.floor(s / HOUR_S)), before };
  }

  /** A live cluster with these members, as the persist stage leaves it. */
  async function liveCluster(id: string, members: string[]) {
    if (keys.clusters.allIsSorted) await redis.zadd(keys.clusters.all, 1, id);
    else await redis.sadd(keys.clusters.all, id);
    if (members.length > 0) await redis.sadd(keys.clusters.items(id), ...members);
    await redis.hset(keys.clusters.cluster(id), { id, size: members.length, sources: '[]' });
    for (const m of members) {
      await redis.hset(keys.feedback.item(m), { id: m, source: 'manual', cluster_id: id });
      await redis.hset(keys.service.membership, m, id);
    }
  }

  const total = (hash: Record<string, string>, kind: 'h' | 'd') =>
    Object.entries(hash)
      .filter(([field]) => field.startsWith(`${kind}:`))
      .reduce((sum, [, n]) => sum + Number(n), 0);

  beforeEach(async () => {
    redis = await openTestRedis(1);
    lease = (await new DistributedLock(redis, keys.service.assignLock, 10_000).tryAcquire())!;
    persister = new BatchPersister(
      redis,
      keys,
      new ItemVectors(redis, keys, embedder, 'auto', 4000),
      {
        queueNew: true,
        growth: 0.25,
      },
    );
  });
  afterEach(async () => closeTestRedis(redis));

  it('counts each item that joins, per cluster and for the project, in hourly and daily buckets', async () => {
    for (const id of ['a', 'b', 'c']) await waitingItem(id);
    const { hours } = await during(async () => {
      await persister.persist(lease, input('c1', true, ['a', 'b'], 2));
      await persister.persist(lease, input('c1', false, ['c'], 3));
    });

    const trends = await redis.hgetall(keys.service.trends('c1'));
    expect(total(trends, 'h')).toBe(3);
    expect(total(trends, 'd')).toBe(3);
    for (const field of Object.keys(trends).filter((f) => f.startsWith('h:'))) {
      expect(hours).toContain(Number(field.slice(2)));
    }
    const project = await redis.hgetall(keys.service.arrivals);
    expect(total(project, 'h')).toBe(3);
    // Bounded in time as well as in fields: a cluster that stops growing leaves no key behind.
    expect(await redis.ttl(keys.service.trends('c1'))).toBeGreaterThan(90 * DAY_S);
    // A replayed batch (items no longer waiting) counts nothing.
    await persister.persist(lease, input('c1', false, ['c'], 3));
    expect(total(await redis.hgetall(keys.service.trends('c1')), 'h')).toBe(3);
  });

  it('prunes hourly buckets older than 7 days and daily ones older than 90 when an hour begins', async () => {
    const now = Math.floor(Date.now() / 1000);
    const hour = Math.floor(now / HOUR_S);
    const day = Math.floor(now / DAY_S);
    await redis.hset(keys.service.trends('c1'), {
      [`h:${hour - 168}`]: 5,
      [`h:${hour - 167}`]: 6,
      [`d:${day - 90}`]: 7,
      [`d:${day - 89}`]: 8,
    });
    await liveCluster('c1', []);
    await waitingItem('a');
    await persister.persist(lease, input('c1', false, ['a'], 1));

    const fields = await redis.hgetall(keys.service.trends('c1'));
    expect(fields[`h:${hour - 168}`]).toBeUndefined();
    expect(fields[`d:${day - 90}`]).toBeUndefined();
    expect(fields[`h:${hour - 167}`]).toBe('6');
    expect(fields[`d:${day - 89}`]).toBe('8');
  });

  it('carries the absorbed cluster’s counts over to the survivor on merge', async () => {
    await liveCluster('c1', ['a']);
    await liveCluster('c2', ['b', 'c']);
    await redis.hset(keys.service.trends('c1'), { 'h:100': 1, 'd:4': 1 });
    await redis.hset(keys.service.trends('c2'), { 'h:100': 2, 'h:101': 3, 'd:4': 5 });
    await runScript(
      redis,
      'mergeClusters',
      mergeClustersKeys(keys),
      [lease.token, 'c1', 'c2', 1, 2, new Date().toISOString(), '[1,0]'],
      keys,
    );

    expect(await redis.hgetall(keys.service.trends('c1'))).toEqual({
      'h:100': '3',
      'h:101': '3',
      'd:4': '6',
    });
    expect(await redis.exists(keys.service.trends('c2'))).toBe(0);
  });
});
