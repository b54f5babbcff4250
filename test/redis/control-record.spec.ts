import Redis from 'ioredis';
import { MAX_SOURCE_CHARS } from '../../src/feedback/feedback-item';
import { Keyspace } from '../../src/redis/keyspace';
import { DistributedLock, LockLease } from '../../src/redis/distributed-lock';
import { runScript } from '../../src/redis/lua-scripts';
import { mergeClustersKeys } from '../../src/sweep/cluster-merger';
import { moveItemsKeys } from '../../src/sweep/item-mover';
import { liveCluster } from '../support/live-cluster';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

/** lua/includes/control.lua as merge-clusters.lua and move-items.lua run it. */
describe('control records (lua/includes/control.lua)', () => {
  const keys = Keyspace.flat();
  let redis: Redis;
  let lease: LockLease;

  beforeEach(async () => {
    redis = await openTestRedis(15);
    lease = (await new DistributedLock(redis, keys.service.assignLock, 10_000).tryAcquire())!;
    await liveCluster(redis, 'c1', ['a', 'b', 'c']);
    await liveCluster(redis, 'c2', ['d']);
    await liveCluster(redis, 'c3', ['e']);
  });
  afterEach(async () => closeTestRedis(redis));

  const apartOf = async (id: string) =>
    JSON.parse((await redis.hget(keys.service.keptApart, id)) ?? '[]') as string[];

  const record = (audit: string[]) => ({
    audit,
    auditMaxLen: 100,
    summaries: [['c1', 7]],
  });

  /** c1 loses b and c to a new cluster n1, kept apart from it. */
  const split = (foundId = 'n1') =>
    runScript(
      redis,
      'moveItems',
      moveItemsKeys(keys),
      [
        lease.token,
        '2024-05-01T10:00:00.000Z',
        JSON.stringify({
          moves: ['b', 'c'].map((item) => ({ item, from: 'c1', to: foundId })),
          clusters: [
            { id: 'c1', size: 3, centroid: '[1,0]' },
            { id: foundId, size: 0, centroid: '[0,1]' },
          ],
          sourceChars: MAX_SOURCE_CHARS,
          found: {
            id: foundId,
            model: 'm',
            nowSeconds: 1714557600,
            text: {
              title: 'Split',
              summary: '',
              issue_title: 'Split',
              issue_description: '',
              summary_model: 'none',
            },
          },
          control: {
            ...record(['action', 'split', 'cluster_id', foundId]),
            pinItems: { b: foundId, c: foundId },
            apart: [['c1', foundId]],
          },
        }),
        Buffer.from('anchor-record'),
      ],
      keys,
    );

  it('founds the split cluster and writes its pins, summaries and audit record with it', async () => {
    const [moved, auditId] = (await split()) as [number, string];

    expect(moved).toBe(2);
    expect(await redis.smembers(keys.clusters.items('n1'))).toEqual(
      expect.arrayContaining(['b', 'c']),
    );
    expect(
      await redis.hmget(keys.clusters.cluster('n1'), 'status', 'size', 'embedding_model'),
    ).toEqual(['new', '2', 'm']);
    expect(await redis.sismember(keys.clusters.all, 'n1')).toBe(1);
    expect(await redis.hget(keys.service.anchors, 'n1')).toBe('anchor-record');
    expect(await apartOf('c1')).toEqual(['n1']);
    expect(await apartOf('n1')).toEqual(['c1']);
    expect(await redis.hmget(keys.service.pinnedItems, 'a', 'b', 'c')).toEqual([null, 'n1', 'n1']);
    expect(await redis.zscore(keys.service.summaryQueue, 'c1')).toBe('7');
    expect(await redis.xrange(keys.service.audit, '-', '+')).toEqual([
      [auditId, ['action', 'split', 'cluster_id', 'n1']],
    ]);
  });

  it('writes nothing when the cluster to found exists already', async () => {
    await expect(split('c2')).rejects.toThrow(/CONFLICT cluster c2 exists already/);

    expect(await redis.smembers(keys.clusters.items('c1'))).toHaveLength(3);
    expect(await redis.exists(keys.service.keptApart, keys.service.pinnedItems)).toBe(0);
    expect(await redis.exists(keys.service.audit, keys.service.summaryQueue)).toBe(0);
  });

  it('a merge hands the absorbed cluster’s pins to the survivor, a sweep’s with no record', async () => {
    await split();
    const merge = (survivor: string, absorbed: string, sizes: number[], control?: object) =>
      runScript(
        redis,
        'mergeClusters',
        mergeClustersKeys(keys),
        [
          lease.token,
          survivor,
          absorbed,
          ...sizes,
          new Date().toISOString(),
          '[1,0]',
          ...(control ? [JSON.stringify(control)] : []),
        ],
        keys,
      );

    // A sweep merges the split-off cluster into c3: c3 inherits "apart from c1", and the
    // pinned items' pins follow them.
    await expect(merge('c3', 'n1', [1, 2])).resolves.toBe(2);
    expect(await apartOf('c3')).toEqual(['c1']);
    expect(await apartOf('c1')).toEqual(['c3']);
    expect(await redis.hexists(keys.service.keptApart, 'n1')).toBe(0);
    expect(await redis.hmget(keys.service.pinnedItems, 'b', 'c')).toEqual(['c3', 'c3']);
    expect(await redis.xlen(keys.service.audit)).toBe(1);

    // A person merges the pair back: the pin between them goes.
    const [moved] = (await merge('c1', 'c3', [1, 3], record(['action', 'merge']))) as [number];
    expect(moved).toBe(3);
    expect(await redis.exists(keys.service.keptApart)).toBe(0);
    expect(await redis.xlen(keys.service.audit)).toBe(2);
  });
});
