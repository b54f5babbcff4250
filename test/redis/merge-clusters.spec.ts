import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { DistributedLock, LockLease } from '../../src/redis/distributed-lock';
import { ClusterKeys, ServiceKeys } from '../../src/redis/keys';
import { runScript } from '../../src/redis/lua-scripts';
import { mergeClustersKeys } from '../../src/sweep/cluster-merger';
import { liveCluster } from '../support/live-cluster';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

describe('merge-clusters.lua', () => {
  let redis: Redis;
  let lease: LockLease;

  const merge = (survivorSize: number, absorbedSize: number) =>
    runScript(
      redis,
      'mergeClusters',
      mergeClustersKeys(Keyspace.flat()),
      [lease.token, 'c1', 'c2', survivorSize, absorbedSize, new Date().toISOString(), '[1,0]'],
      Keyspace.flat(),
    );

  beforeEach(async () => {
    redis = await openTestRedis(1);
    lease = (await new DistributedLock(redis, ServiceKeys.assignLock, 10_000).tryAcquire())!;
    await liveCluster(redis, 'c1', ['a']);
    await liveCluster(redis, 'c2', ['b', 'c']);
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
