import Redis from 'ioredis';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { ItemVectors } from '../../src/item-vectors/item-vectors';
import { BatchPersister } from '../../src/pipeline/persist/batch-persister';
import { AssignmentPlan } from '../../src/pipeline/assign/assign-batch';
import { Embedder } from '../../src/ports/embedder.port';
import { DistributedLock, LockLease } from '../../src/redis/distributed-lock';
import { Keyspace } from '../../src/redis/keyspace';
import { runScript } from '../../src/redis/lua-scripts';
import { mergeClustersKeys } from '../../src/sweep/cluster-merger';
import { SummaryQueue } from '../../src/summaries/summary-queue';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const P = '3f0c2a4e-8d1b-4c6a-9e7f-0a1b2c3d4e5f';
const OTHER = 'ckz9x1y2z0000qwerty12345';
const v = (...xs: number[]) => Float32Array.from(xs);

describe('the project-scoped key layout (CONTRACT §7)', () => {
  it('names every contract key exactly as §7 lists it', () => {
    const keys = Keyspace.project(P);
    expect(keys.feedback.item('i1')).toBe(`feedback:${P}:i1`);
    expect(keys.feedback.created).toBe(`feedback:created:${P}`);
    expect(keys.feedback.bySource('reddit')).toBe(`feedback:source:${P}:reddit`);
    expect(keys.feedback.external('github', '42')).toBe(`feedback:external:${P}:github:42`);
    expect(keys.feedback.unclustered).toBe(`feedback:unclustered:${P}`);
    expect(keys.clusters.cluster('c1')).toBe(`cluster:${P}:c1`);
    expect(keys.clusters.items('c1')).toBe(`cluster:${P}:c1:items`);
    expect(keys.clusters.all).toBe(`clusters:${P}:all`);
    expect(keys.clusters.allIsSorted).toBe(true);
    expect(keys.jobs.job('j1')).toBe(`cluster_job:${P}:j1`);
    expect(keys.jobs.recent).toBe(`cluster_jobs:${P}:recent`);
    expect(Object.values(keys.service).filter((k) => typeof k === 'string')).toEqual(
      expect.arrayContaining([`clustering:${P}:lock:assign`, `clustering:${P}:membership`]),
    );
    for (const key of Object.values(keys.service)) {
      if (typeof key === 'string') expect(key.startsWith(`clustering:${P}:`)).toBe(true);
    }
    expect(keys.service.calibration('m')).toBe(`clustering:${P}:calibration:m`);
  });

  it('keeps the flat layout of §1-§2 unchanged', () => {
    const keys = Keyspace.flat();
    expect(keys.feedback.item('i1')).toBe('feedback:i1');
    expect(keys.clusters.items('c1')).toBe('cluster:items:c1');
    expect(keys.clusters.all).toBe('clusters:all');
    expect(keys.clusters.allIsSorted).toBe(false);
    expect(keys.service.assignLock).toBe('clustering:lock:assign');
  });

  it('refuses a project id that could break out of its keys', () => {
    for (const bad of ['', 'a:b', 'a*', 'x'.repeat(65), 'a b']) {
      expect(() => Keyspace.project(bad)).toThrow('not a project id');
    }
  });

  describe('scripts in the project layout', () => {
    let redis: Redis;
    let lease: LockLease;
    const keys = Keyspace.project(P);
    const embedder: Embedder = {
      model: 'test-model',
      dimensions: 2,
      cheapToRecompute: false,
      embed: async (texts) => texts.map(() => ({ ok: true, vector: v(1, 0) })),
    };
    const persister = () =>
      new BatchPersister(redis, keys, new ItemVectors(redis, keys, embedder, 'auto', 4000), {
        queueNew: true,
        growth: 0.25,
      });
    const plan = (clusterId: string, itemIds: string[]): AssignmentPlan => ({
      assignments: itemIds.map((itemId) => ({ itemId, clusterId, similarity: 1 })),
      changes: [
        {
          state: { id: clusterId, centroid: v(1, 0), anchor: v(1, 0), size: itemIds.length },
          created: true,
          addedItemIds: itemIds,
        },
      ],
    });
    const persist = async (clusterId: string, itemIds: string[]) =>
      persister().persist(lease, {
        plan: plan(clusterId, itemIds),
        vectors: new Map(itemIds.map((id) => [id, v(1, 0)])),
        sources: new Map(itemIds.map((id) => [id, 'reddit'])),
        newClusterText: new Map(),
        model: 'test-model',
      });

    beforeEach(async () => {
      redis = await openTestRedis(1);
      lease = (await new DistributedLock(redis, keys.service.assignLock, 10_000).tryAcquire())!;
    });
    afterEach(async () => closeTestRedis(redis));

    async function writeItems(count: number): Promise<string[]> {
      const writer = new FeedbackWriter(redis, keys);
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        ids.push((await writer.write({ source: 'reddit', title: `item ${i}` })).id);
      }
      return ids;
    }

    it('a producer write lands in the project keys, with project_id on the hash and the event', async () => {
      const [id] = await writeItems(1);
      expect(await redis.hget(`feedback:${P}:${id}`, 'project_id')).toBe(P);
      expect(await redis.zscore(`feedback:created:${P}`, id)).not.toBeNull();
      expect(await redis.sismember(`feedback:unclustered:${P}`, id)).toBe(1);
      const [[, fields]] = await redis.xrange('feedback:events', '-', '+');
      expect(fields).toEqual(expect.arrayContaining(['project_id', P, 'id', id]));
      expect(await redis.keys('feedback:unclustered')).toEqual([]);
    });

    it('persist-batch writes §7 shapes: project cluster keys, a sorted live set by created_at, project_id', async () => {
      const ids = await writeItems(2);
      const before = Math.floor(Date.now() / 1000);
      expect((await persist('c1', ids)).clustered).toBe(2);

      expect(await redis.hget(`cluster:${P}:c1`, 'project_id')).toBe(P);
      expect(await redis.hget(`cluster:${P}:c1`, 'size')).toBe('2');
      expect((await redis.smembers(`cluster:${P}:c1:items`)).sort()).toEqual([...ids].sort());
      expect(await redis.type(`clusters:${P}:all`)).toBe('zset');
      const score = Number(await redis.zscore(`clusters:${P}:all`, 'c1'));
      expect(score).toBeGreaterThanOrEqual(before);
      expect(score).toBeLessThanOrEqual(before + 2);
      for (const id of ids) {
        expect(await redis.hget(`feedback:${P}:${id}`, 'cluster_id')).toBe('c1');
        expect(await redis.hget(`feedback:${P}:${id}`, 'clustered')).toBe('true');
      }
      expect(await redis.scard(`feedback:unclustered:${P}`)).toBe(0);
      // Nothing of the flat layout, and the service's own keys under the project.
      const flat = ['clusters:all', 'cluster:c1', 'cluster:items:c1', 'clustering:membership'];
      for (const key of flat) expect(await redis.exists(key)).toBe(0);
      expect(await redis.hget(`clustering:${P}:membership`, ids[0])).toBe('c1');
    });

    it('a later batch growing the cluster keeps its creation score', async () => {
      const [first, second] = await writeItems(2);
      await persist('c1', [first]);
      const created = await redis.zscore(`clusters:${P}:all`, 'c1');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await persister().persist(lease, {
        plan: {
          assignments: [{ itemId: second, clusterId: 'c1', similarity: 1 }],
          changes: [
            {
              state: { id: 'c1', centroid: v(1, 0), anchor: v(1, 0), size: 2 },
              created: false,
              addedItemIds: [second],
            },
          ],
        },
        vectors: new Map([[second, v(1, 0)]]),
        sources: new Map([[second, 'reddit']]),
        newClusterText: new Map(),
        model: 'test-model',
      });
      expect(await redis.hget(`cluster:${P}:c1`, 'size')).toBe('2');
      expect(await redis.zscore(`clusters:${P}:all`, 'c1')).toBe(created);
    });

    it('merge-clusters and complete-summary read and write the sorted live set', async () => {
      const [a, b] = await writeItems(2);
      await persist('c1', [a]);
      await persist('c2', [b]);
      const moved = await runScript(
        redis,
        'mergeClusters',
        mergeClustersKeys(keys),
        [lease.token, 'c1', 'c2', 1, 1, new Date().toISOString(), '[1,0]'],
        keys,
      );
      expect(moved).toBe(1);
      expect(await redis.zrange(`clusters:${P}:all`, 0, -1)).toEqual(['c1']);
      expect(await redis.hget(`cluster:${P}:c2`, 'merged_into')).toBe('c1');
      expect(await redis.smembers(`cluster:${P}:c1:items`)).toEqual(expect.arrayContaining([a, b]));
      expect(await redis.hget(`feedback:${P}:${b}`, 'cluster_id')).toBe('c1');

      const queue = new SummaryQueue(redis, keys, 30_000, 0.25);
      const described = {
        size: 2,
        summary: {
          title: 'Project title',
          summary: 'two items',
          issueTitle: 'Project title',
          issueDescription: '',
          summaryModel: 'extractive',
        },
      };
      expect(await queue.complete('c1', described)).toBe(true);
      expect(await redis.hget(`cluster:${P}:c1`, 'title')).toBe('Project title');
      expect(await queue.complete('c2', described)).toBe(false);
    });

    it('two projects with the same cluster id never touch each other', async () => {
      const [a] = await writeItems(1);
      await persist('c1', [a]);
      const other = Keyspace.project(OTHER);
      const writer = new FeedbackWriter(redis, other);
      const { id } = await writer.write({ source: 'reddit', title: 'elsewhere' });
      const otherLease = (await new DistributedLock(
        redis,
        other.service.assignLock,
        10_000,
      ).tryAcquire())!;
      await new BatchPersister(
        redis,
        other,
        new ItemVectors(redis, other, embedder, 'auto', 4000),
        { queueNew: true, growth: 0.25 },
      ).persist(otherLease, {
        plan: plan('c1', [id]),
        vectors: new Map([[id, v(1, 0)]]),
        sources: new Map([[id, 'reddit']]),
        newClusterText: new Map(),
        model: 'test-model',
      });
      expect(await redis.smembers(`cluster:${P}:c1:items`)).toEqual([a]);
      expect(await redis.smembers(`cluster:${OTHER}:c1:items`)).toEqual([id]);
      expect(await redis.hget(`cluster:${OTHER}:c1`, 'project_id')).toBe(OTHER);
    });
  });
});
