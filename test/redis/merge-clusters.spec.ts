import Redis from 'ioredis';
import { packVector } from '../../src/pipeline/assign/vector-math';
import { DistributedLock, LockLease } from '../../src/redis/distributed-lock';
import { ClusterKeys, ServiceKeys } from '../../src/redis/keys';
import { runScript } from '../../src/redis/lua-scripts';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const KEYS = [
  ServiceKeys.assignLock,
  ClusterKeys.all,
  ServiceKeys.indexSeq,
  ServiceKeys.indexChanges,
  ServiceKeys.centroids,
  ServiceKeys.anchors,
  ServiceKeys.membership,
];

describe('merge-clusters.lua', () => {
  let redis: Redis;
  let lease: LockLease;

  async function cluster(id: string, members: string[]) {
    await redis.sadd(ClusterKeys.all, id);
    await redis.sadd(ClusterKeys.items(id), ...members);
    await redis.hset(ClusterKeys.cluster(id), { id, size: members.length, sources: '["manual"]' });
    for (const m of members) {
      await redis.hset(`feedback:${m}`, { id: m, source: 'manual', cluster_id: id });
      await redis.hset(ServiceKeys.membership, m, id);
    }
  }
  const merge = (survivorSize: number, absorbedSize: number) =>
    runScript(redis, 'mergeClusters', KEYS, [
      lease.token,
      'c1',
      'c2',
      survivorSize,
      absorbedSize,
      new Date().toISOString(),
      '[1,0]',
      packVector(Float32Array.from([1, 0])),
    ]);

  beforeEach(async () => {
    redis = await openTestRedis(1);
    lease = (await new DistributedLock(redis, ServiceKeys.assignLock, 10_000).tryAcquire())!;
    await cluster('c1', ['a']);
    await cluster('c2', ['b', 'c']);
  });
  afterEach(async () => closeTestRedis(redis));

  it('moves the absorbed items and their membership records to the survivor', async () => {
    await expect(merge(1, 2)).resolves.toBe(2);

    expect((await redis.smembers(ClusterKeys.items('c1'))).sort()).toEqual(['a', 'b', 'c']);
    expect(await redis.hmget(ServiceKeys.membership, 'b', 'c')).toEqual(['c1', 'c1']);
    expect(await redis.hget(ClusterKeys.cluster('c2'), 'status')).toBe('merged');
  });

  it('validates both clusters before writing: a CONFLICT on the absorbed one writes nothing', async () => {
    await expect(merge(1, 3)).rejects.toThrow(/CONFLICT cluster sizes changed/);

    expect(await redis.smembers(ClusterKeys.items('c1'))).toEqual(['a']);
    expect(await redis.hmget(ServiceKeys.membership, 'b', 'c')).toEqual(['c2', 'c2']);
    expect(await redis.smembers(ClusterKeys.all)).toEqual(expect.arrayContaining(['c1', 'c2']));
    expect(await redis.get(ServiceKeys.indexSeq)).toBeNull();
  });
});
