import Redis from 'ioredis';
import { AssignmentPlan } from '../../src/pipeline/assign/assign-batch';
import { unpackVector } from '../../src/pipeline/assign/vector-math';
import { BatchPersister, LockLostError } from '../../src/pipeline/persist/batch-persister';
import { DistributedLock, LockLease } from '../../src/redis/distributed-lock';
import { ServiceKeys } from '../../src/redis/keys';
import { contractViolations } from '../support/contract-invariants';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const v = (...xs: number[]) => Float32Array.from(xs);

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
    provisionalTitles: new Map([[plan.changes[0].state.id, 'Founding title']]),
    model: 'test-model',
  });

  beforeEach(async () => {
    redis = await openTestRedis(1);
    lease = (await new DistributedLock(redis, ServiceKeys.assignLock, 10_000).tryAcquire())!;
    persister = new BatchPersister(redis);
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
      size: '2',
      embedding_model: 'test-model',
      sources: JSON.stringify(['reddit', 'sentry']),
    });
    expect(JSON.parse(cluster.centroid)).toEqual([0.6, 0.8]);
    expect(await redis.smembers('clusters:all')).toEqual(['c1']);
    expect(Array.from(unpackVector((await redis.hgetBuffer(ServiceKeys.anchors, 'c1'))!))).toEqual([
      1, 0,
    ]);
    expect(await redis.zscore(ServiceKeys.indexChanges, 'c1')).toBe('1');
    expect(await redis.hget(ServiceKeys.itemModels, 'a')).toBe('test-model');
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
});
