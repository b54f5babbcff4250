import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { AssignmentPlan } from '../../src/pipeline/assign/assign-batch';
import { decodeVectorRecord } from '../../src/item-vectors/vector-record';
import { ItemVectors } from '../../src/item-vectors/item-vectors';
import { Embedder } from '../../src/ports/embedder.port';
import { BatchPersister } from '../../src/pipeline/persist/batch-persister';
import { DistributedLock, LockLease, LockLostError } from '../../src/redis/distributed-lock';
import { ServiceKeys } from '../../src/redis/keys';
import { StoredSummary } from '../../src/pipeline/summarize/summarize-stage';
import { contractViolations } from '../support/contract-invariants';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const v = (...xs: number[]) => Float32Array.from(xs);

const FOUNDING_TEXT: StoredSummary = {
  title: 'Founding title',
  summary: '2 reports from Reddit mentioning login.',
  issueTitle: 'Investigate: Founding title',
  issueDescription: '## Summary\n\n2 reports',
  githubRepoUrl: 'https://github.com/acme/app',
  summaryModel: 'extractive',
};

/** Item vectors as for a hosted embedder (stored, int8) or the local one (recomputed, not stored). */
function itemVectors(redis: Redis, cheapToRecompute: boolean): ItemVectors {
  const embedder: Embedder = {
    model: 'test-model',
    dimensions: 2,
    cheapToRecompute,
    embed: async (texts) => texts.map(() => ({ ok: true, vector: v(1, 0) })),
  };
  return new ItemVectors(redis, Keyspace.flat(), embedder, 'auto', 4000);
}

async function waitingItem(redis: Redis, id: string, source = 'reddit') {
  await redis.hset(`feedback:${id}`, {
    id,
    source,
    title: `t ${id}`,
    body: '',
    clustered: 'false',
  });
  await redis.sadd('feedback:unclustered', id);
}

function planFor(
  clusterId: string,
  created: boolean,
  itemIds: string[],
  size: number,
): AssignmentPlan {
  return {
    assignments: itemIds.map((itemId) => ({ itemId, clusterId, similarity: 1 })),
    changes: [
      {
        state: { id: clusterId, centroid: v(0.6, 0.8), anchor: v(1, 0), size },
        created,
        addedItemIds: itemIds,
      },
    ],
  };
}

describe('persist-batch.lua through BatchPersister', () => {
  let redis: Redis;
  let lease: LockLease;
  let persister: BatchPersister;
  const input = (plan: AssignmentPlan) => ({
    plan,
    vectors: new Map(plan.assignments.map((a) => [a.itemId, v(1, 0)])),
    sources: new Map(
      plan.assignments.map((a) => [a.itemId, a.itemId.startsWith('s') ? 'sentry' : 'reddit']),
    ),
    newClusterText: new Map([[plan.changes[0].state.id, FOUNDING_TEXT]]),
    model: 'test-model',
  });

  beforeEach(async () => {
    redis = await openTestRedis(1);
    lease = (await new DistributedLock(redis, ServiceKeys.assignLock, 10_000).tryAcquire())!;
    persister = new BatchPersister(redis, Keyspace.flat(), itemVectors(redis, false), {
      queueNew: true,
      growth: 0.25,
    });
  });
  afterEach(async () => closeTestRedis(redis));

  it('writes a new cluster and its items as the contract defines "clustered"', async () => {
    await waitingItem(redis, 'a');
    await waitingItem(redis, 's1');
    const result = await persister.persist(lease, input(planFor('c1', true, ['a', 's1'], 2)));

    expect(result).toEqual({ clustered: 2, skippedIds: [], seq: 1 });
    const cluster = await redis.hgetall('cluster:c1');
    expect(cluster).toMatchObject({
      id: 'c1',
      status: 'new',
      title: 'Founding title',
      summary: FOUNDING_TEXT.summary,
      issue_title: FOUNDING_TEXT.issueTitle,
      issue_description: FOUNDING_TEXT.issueDescription,
      github_repo_url: 'https://github.com/acme/app',
      summary_model: 'extractive',
      size: '2',
      embedding_model: 'test-model',
      sources: JSON.stringify(['reddit', 'sentry']),
    });
    expect(JSON.parse(cluster.centroid)).toEqual([0.6, 0.8]);
    expect(await redis.smembers('clusters:all')).toEqual(['c1']);
    const anchor = decodeVectorRecord(
      (await redis.hgetBuffer(ServiceKeys.anchors, 'c1'))!,
      'test-model',
    );
    expect(Array.from(anchor!)).toEqual([1, 0]);
    expect(await redis.zscore(ServiceKeys.indexChanges, 'c1')).toBe('1');
    // The vector is a 6-bit record tagged with its model; no model name is stored per item.
    const record = (await redis.hgetBuffer(ServiceKeys.itemVectors, 'a'))!;
    expect(record.length).toBe(12 + 2);
    expect(Array.from(decodeVectorRecord(record, 'test-model')!)).toEqual([1, 0]);
    expect(decodeVectorRecord(record, 'another-model')).toBeUndefined();
    expect(await redis.keys('clustering:vectors:models*')).toEqual([]);
    expect(await redis.exists('clustering:index:centroids')).toBe(0);
    expect(await contractViolations(redis)).toEqual([]);
  });

  it('stores no item vector for an embedder that recomputes them, and removes an older one', async () => {
    const recomputing = new BatchPersister(redis, Keyspace.flat(), itemVectors(redis, true), {
      queueNew: true,
      growth: 0.25,
    });
    await waitingItem(redis, 'a');
    await waitingItem(redis, 'b');
    await redis.hset(ServiceKeys.itemVectors, 'b', 'vector of an earlier assignment');

    await recomputing.persist(lease, input(planFor('c1', true, ['a', 'b'], 2)));

    expect(await redis.hlen(ServiceKeys.itemVectors)).toBe(0);
    expect(await redis.hget('feedback:a', 'cluster_id')).toBe('c1');
    expect(await contractViolations(redis)).toEqual([]);
  });

  it('changes nothing when the same batch is replayed', async () => {
    await waitingItem(redis, 'a');
    await persister.persist(lease, input(planFor('c1', true, ['a'], 1)));
    const before = await redis.hgetall('cluster:c1');

    const replay = await persister.persist(lease, input(planFor('c2', true, ['a'], 1)));

    // Nothing written, so the change feed did not move either.
    expect(replay).toEqual({ clustered: 0, skippedIds: ['a'], seq: 1 });
    expect(await redis.exists('cluster:c2')).toBe(0);
    expect(await redis.smembers('clusters:all')).toEqual(['c1']);
    expect(await redis.hgetall('cluster:c1')).toEqual(before);
    expect(await contractViolations(redis)).toEqual([]);
  });

  it('keeps fields other components own and unions sources when a cluster grows', async () => {
    await waitingItem(redis, 'a');
    await waitingItem(redis, 's1');
    await persister.persist(lease, input(planFor('c1', true, ['a'], 1)));
    await redis.hset('cluster:c1', {
      status: 'in_progress',
      github_pr_url: 'https://github.com/o/r/pull/1',
    });

    await persister.persist(lease, input(planFor('c1', false, ['s1'], 2)));

    const cluster = await redis.hgetall('cluster:c1');
    expect(cluster.status).toBe('in_progress');
    expect(cluster.github_pr_url).toBe('https://github.com/o/r/pull/1');
    expect(cluster.sources).toBe(JSON.stringify(['reddit', 'sentry']));
    expect(cluster.size).toBe('2');
    expect(await redis.get(ServiceKeys.indexSeq)).toBe('2');
  });

  it('writes nothing once the lock has passed to another holder (fencing)', async () => {
    await waitingItem(redis, 'a');
    await redis.set(ServiceKeys.assignLock, 'another-holder');

    await expect(
      persister.persist(lease, input(planFor('c1', true, ['a'], 1))),
    ).rejects.toBeInstanceOf(LockLostError);
    expect(await redis.exists('cluster:c1')).toBe(0);
    expect(await redis.sismember('feedback:unclustered', 'a')).toBe(1);
  });

  it('refuses to grow a cluster that is no longer live', async () => {
    await waitingItem(redis, 'a');
    await redis.hset('cluster:gone', { id: 'gone', status: 'merged', merged_into: 'x' });

    await expect(persister.persist(lease, input(planFor('gone', false, ['a'], 2)))).rejects.toThrow(
      /CONFLICT/,
    );
    expect(await redis.hget('feedback:a', 'clustered')).toBe('false');
  });

  it('validates every cluster before the first write: a CONFLICT on a later one writes nothing', async () => {
    await waitingItem(redis, 'a');
    await waitingItem(redis, 'b');
    await redis.hset('cluster:gone', { id: 'gone', status: 'merged', merged_into: 'x' });
    const founding = planFor('c1', true, ['a'], 1);
    const late = planFor('gone', false, ['b'], 2);
    const plan: AssignmentPlan = {
      assignments: [...founding.assignments, ...late.assignments],
      changes: [...founding.changes, ...late.changes],
    };

    await expect(persister.persist(lease, input(plan))).rejects.toThrow(/CONFLICT cluster gone/);

    expect(await redis.exists('cluster:c1', 'cluster:items:c1')).toBe(0);
    expect(await redis.smembers('clusters:all')).toEqual([]);
    expect(await redis.get(ServiceKeys.indexSeq)).toBeNull();
    expect(await redis.hlen(ServiceKeys.itemVectors)).toBe(0);
    expect((await redis.smembers('feedback:unclustered')).sort()).toEqual(['a', 'b']);
    expect(await redis.hget('feedback:a', 'clustered')).toBe('false');
  });

  describe('updated items (CONTRACT §1 "Updates")', () => {
    /** Clusters a and b into c1, then re-writes a as its producer does on an update. */
    async function clusteredThenUpdated(keepClusterId: boolean) {
      await waitingItem(redis, 'a');
      await waitingItem(redis, 'b');
      await persister.persist(lease, input(planFor('c1', true, ['a', 'b'], 2)));
      await redis.hset('feedback:a', 'clustered', 'false');
      if (!keepClusterId) await redis.hdel('feedback:a', 'cluster_id', 'clustered_at');
      await redis.sadd('feedback:unclustered', 'a');
    }
    const moveToC2 = () => ({
      ...input(planFor('c2', true, ['a'], 1)),
      departures: new Map([['a', 'c1']]),
      shrunk: [{ id: 'c1', state: { id: 'c1', centroid: v(0, 1), anchor: v(1, 0), size: 1 } }],
    });

    it.each([
      ['the hash lost cluster_id (found through clustering:membership)', false],
      ['an item clustered before the membership record (found through cluster_id)', true],
    ])('moves the item out of its old cluster in the same step: %s', async (_, keepClusterId) => {
      await clusteredThenUpdated(keepClusterId);
      if (keepClusterId) await redis.del(ServiceKeys.membership);

      const result = await persister.persist(lease, moveToC2());

      expect(result.clustered).toBe(1);
      expect(await redis.smembers('cluster:items:c1')).toEqual(['b']);
      expect(await redis.smembers('cluster:items:c2')).toEqual(['a']);
      expect(await redis.hget('cluster:c1', 'size')).toBe('1');
      expect(JSON.parse((await redis.hget('cluster:c1', 'centroid'))!)).toEqual([0, 1]);
      expect(await redis.hget(ServiceKeys.membership, 'a')).toBe('c2');
      // One change-feed step per cluster written: c1 (founded), then c1 (shrunk) and c2.
      expect(result.seq).toBe(3);
      expect(await contractViolations(redis)).toEqual([]);
    });

    it('lets an updated item leave without joining (parked), waiting in no cluster', async () => {
      await clusteredThenUpdated(false);

      await persister.persist(lease, {
        plan: { assignments: [], changes: [] },
        vectors: new Map(),
        sources: new Map(),
        newClusterText: new Map(),
        model: 'test-model',
        departures: new Map([['a', 'c1']]),
        shrunk: [{ id: 'c1', state: { id: 'c1', centroid: v(0, 1), anchor: v(1, 0), size: 1 } }],
      });

      expect(await redis.smembers('cluster:items:c1')).toEqual(['b']);
      expect(await redis.hget('cluster:c1', 'size')).toBe('1');
      expect(await redis.hexists(ServiceKeys.membership, 'a')).toBe(0);
      expect(await redis.sismember('feedback:unclustered', 'a')).toBe(1);
      expect(await contractViolations(redis)).toEqual([]);
    });

    it('refuses a plan that does not take the item out of the cluster it is in', async () => {
      await clusteredThenUpdated(false);
      const before = await redis.hgetall('cluster:c1');

      await expect(persister.persist(lease, input(planFor('c2', true, ['a'], 1)))).rejects.toThrow(
        /CONFLICT item a is in cluster c1/,
      );

      expect(await redis.exists('cluster:c2')).toBe(0);
      expect(await redis.hgetall('cluster:c1')).toEqual(before);
      expect((await redis.smembers('cluster:items:c1')).sort()).toEqual(['a', 'b']);
    });

    it('retires a cluster left empty: not live, size 0, out of the index, hash kept', async () => {
      await waitingItem(redis, 'a');
      await persister.persist(lease, input(planFor('c1', true, ['a'], 1)));
      await redis.hset('feedback:a', 'clustered', 'false');
      await redis.sadd('feedback:unclustered', 'a');

      await persister.persist(lease, {
        ...input(planFor('c2', true, ['a'], 1)),
        departures: new Map([['a', 'c1']]),
        shrunk: [{ id: 'c1', state: { id: 'c1', centroid: v(0, 0), anchor: v(1, 0), size: 0 } }],
      });

      expect(await redis.smembers('clusters:all')).toEqual(['c2']);
      expect(await redis.hget('cluster:c1', 'size')).toBe('0');
      expect(await redis.hget('cluster:c1', 'emptied_at')).toEqual(expect.any(String));
      expect(await redis.hexists(ServiceKeys.centroids, 'c1')).toBe(0);
      expect(await redis.zscore(ServiceKeys.indexChanges, 'c1')).not.toBeNull();
      expect(await contractViolations(redis)).toEqual([]);
    });
  });

  it('queues one summary per new or grown cluster, ranked by size and growth', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) await waitingItem(redis, id);
    await persister.persist(lease, input(planFor('c1', true, ['a', 'b'], 2)));
    // New: size 2 plus 2 items no model summary describes yet.
    expect(await redis.zscore(ServiceKeys.summaryQueue, 'c1')).toBe('4');

    // Summarised at 2: a third item is growth enough (25%, at least one item).
    await redis.hset(ServiceKeys.summarizedAt, 'c1', 2);
    await redis.zrem(ServiceKeys.summaryQueue, 'c1');
    await persister.persist(lease, input(planFor('c1', false, ['c'], 3)));
    expect(await redis.zscore(ServiceKeys.summaryQueue, 'c1')).toBe('4');
    await persister.persist(lease, input(planFor('c1', false, ['d', 'e'], 5)));
    // Still one entry, re-ranked: size 5 plus 3 undescribed items.
    expect(await redis.zrange(ServiceKeys.summaryQueue, 0, -1, 'WITHSCORES')).toEqual(['c1', '8']);
  });

  it('without a model summarizer, a new cluster is described already and not queued', async () => {
    const extractiveOnly = new BatchPersister(redis, Keyspace.flat(), itemVectors(redis, false), {
      queueNew: false,
      growth: 0.25,
    });
    await waitingItem(redis, 'a');
    await extractiveOnly.persist(lease, input(planFor('c1', true, ['a'], 1)));
    expect(await redis.zcard(ServiceKeys.summaryQueue)).toBe(0);
    expect(await redis.hget(ServiceKeys.summarizedAt, 'c1')).toBe('1');
    expect(await redis.hget('cluster:c1', 'title')).toBe('Founding title');
  });
});
