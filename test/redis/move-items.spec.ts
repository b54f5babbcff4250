import { Keyspace } from '../../src/redis/keyspace';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { MAX_SOURCE_CHARS, parseFeedbackHash } from '../../src/feedback/feedback-item';
import { DistributedLock, LockLease } from '../../src/redis/distributed-lock';
import { ClusterKeys, ServiceKeys } from '../../src/redis/keys';
import { runScript } from '../../src/redis/lua-scripts';
import { moveItemsKeys } from '../../src/sweep/item-mover';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

describe('move-items.lua', () => {
  let redis: Redis;
  let lease: LockLease;

  beforeEach(async () => {
    redis = await openTestRedis(1);
    lease = (await new DistributedLock(redis, ServiceKeys.assignLock, 10_000).tryAcquire())!;
    for (const [clusterId, members] of [
      ['c1', ['a', 'b']],
      ['c2', ['c']],
    ] as const) {
      await redis.sadd(ClusterKeys.all, clusterId);
      await redis.hset(ClusterKeys.cluster(clusterId), { id: clusterId, size: members.length });
      await redis.sadd(ClusterKeys.items(clusterId), ...members);
      for (const id of members) await redis.hset(`feedback:${id}`, { id, cluster_id: clusterId });
    }
  });
  afterEach(async () => closeTestRedis(redis));

  /** `c2Size` is the membership the plan believes c2 has (1 is right). */
  const moveBToC2 = (c2Size = 1) =>
    runScript(
      redis,
      'moveItems',
      moveItemsKeys(Keyspace.flat()),
      [
        lease.token,
        '2024-05-01T10:00:00.000Z',
        JSON.stringify({
          moves: [{ item: 'b', from: 'c1', to: 'c2' }],
          clusters: [
            { id: 'c1', size: 2, centroid: '[1,0]' },
            { id: 'c2', size: c2Size, centroid: '[0,1]' },
          ],
          sourceChars: MAX_SOURCE_CHARS,
        }),
      ],
      Keyspace.flat(),
    );

  it('moves an item and recomputes sizes and sources from the members', async () => {
    await redis.hset('feedback:a', 'source', ' Reddit ');
    await redis.hset('feedback:b', 'source', 'sentry');
    await redis.hset('feedback:c', 'source', 'github');

    expect(await moveBToC2()).toBe(1);
    expect(await redis.hget('feedback:b', 'cluster_id')).toBe('c2');
    expect(await redis.hmget(ClusterKeys.cluster('c1'), 'size', 'sources')).toEqual([
      '1',
      JSON.stringify(['reddit']),
    ]);
    expect(await redis.hmget(ClusterKeys.cluster('c2'), 'size', 'sources')).toEqual([
      '2',
      JSON.stringify(['github', 'sentry']),
    ]);
  });

  it('reads a 200 kB source in linear time, cut as the service cuts sources', async () => {
    // Spaces around a letter: a "trim" pattern inside Redis was quadratic on this.
    const huge = `R${' '.repeat(100_000)}x${' '.repeat(100_000)}`;
    await redis.hset('feedback:b', 'source', huge);
    await redis.hset('feedback:c', 'source', `  ${'Q'.repeat(200_000)}`);

    const started = performance.now();
    expect(await moveBToC2()).toBe(1);
    expect(performance.now() - started).toBeLessThan(1000);
    const sources = JSON.parse((await redis.hget(ClusterKeys.cluster('c2'), 'sources'))!);
    expect(sources).toEqual(['q'.repeat(MAX_SOURCE_CHARS), 'r']);
    // The same names the service gives these items when it reads them.
    expect(parseFeedbackHash('b', { source: huge })?.source).toBe('r');
    expect(parseFeedbackHash('c', { source: `  ${'Q'.repeat(200_000)}` })?.source).toBe(
      'q'.repeat(MAX_SOURCE_CHARS),
    );
  });

  it('writes nothing when the lock is lost', async () => {
    await redis.set(ServiceKeys.assignLock, 'someone else');
    await expect(moveBToC2()).rejects.toThrow(/FENCED/);
    expect(await redis.smembers(ClusterKeys.items('c1'))).toHaveLength(2);
  });

  it('keeps the service membership record in step with the move', async () => {
    expect(await moveBToC2()).toBe(1);
    expect(await redis.hget(ServiceKeys.membership, 'b')).toBe('c2');
  });

  it('validates every cluster before writing: a CONFLICT on the last one writes nothing', async () => {
    await expect(moveBToC2(5)).rejects.toThrow(/CONFLICT cluster c2 changed/);

    expect((await redis.smembers(ClusterKeys.items('c1'))).sort()).toEqual(['a', 'b']);
    expect(await redis.hget('feedback:b', 'cluster_id')).toBe('c1');
    expect(await redis.hexists(ServiceKeys.membership, 'b')).toBe(0);
    expect(await redis.get(ServiceKeys.indexSeq)).toBeNull();
  });
});
