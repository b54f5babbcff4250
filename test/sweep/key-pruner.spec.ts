import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { ClusterStateStore } from '../../src/clusters/cluster-state.store';
import { EmbeddedVectorIndex } from '../../src/providers/embedded/embedded-vector-index';
import { FeedbackKeys, ServiceKeys } from '../../src/redis/keys';
import { KeyPruner } from '../../src/sweep/key-pruner';
import { markMergedAway, writeLiveCluster } from '../support/cluster-state-fixtures';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const MODEL = 'test-model';

const liveCluster = (redis: Redis, id: string, centroid: number[]) =>
  writeLiveCluster(redis, id, Float32Array.from(centroid), MODEL, 1);

describe('KeyPruner (sweeps keep growing keys bounded)', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(1)));
  afterEach(async () => closeTestRedis(redis));

  it('drops parked entries of items no longer waiting and summary sizes of clusters gone', async () => {
    await redis.sadd(FeedbackKeys.unclustered, 'still-waiting');
    await redis.hset(ServiceKeys.parked, 'still-waiting', '{}', 'clustered-since', '{}');
    await liveCluster(redis, 'live', [1, 0]);
    await liveCluster(redis, 'gone', [0, 1]);
    await markMergedAway(redis, 'gone');
    await redis.hset(ServiceKeys.summarizedAt, 'live', 3, 'gone', 5);

    const stats = await new KeyPruner(redis, Keyspace.flat()).prune();

    expect(stats).toMatchObject({ parked: 1, summaries: 1 });
    expect(await redis.hkeys(ServiceKeys.parked)).toEqual(['still-waiting']);
    expect(await redis.hkeys(ServiceKeys.summarizedAt)).toEqual(['live']);
  });

  it('prunes old change-feed entries of removed clusters; a replica behind reloads and drops them', async () => {
    await liveCluster(redis, 'kept', [1, 0]);
    await liveCluster(redis, 'merged', [0, 1]);
    const behind = new EmbeddedVectorIndex(new ClusterStateStore(redis, Keyspace.flat()), MODEL, 2);
    await behind.refresh();
    expect(behind.size()).toBe(2);

    await markMergedAway(redis, 'merged');
    // Ten thousand later changes (one cluster updated again and again) age the removal out.
    await redis.set(ServiceKeys.indexSeq, 20_000);
    await redis.zadd(ServiceKeys.indexChanges, 20_000, 'kept');

    const stats = await new KeyPruner(redis, Keyspace.flat()).prune();

    expect(stats.changes).toBe(1);
    expect(await redis.zrange(ServiceKeys.indexChanges, 0, -1)).toEqual(['kept']);
    // The removal entry is gone, yet the replica that had not seen it drops the cluster.
    await behind.refresh();
    expect(behind.size()).toBe(1);
    const [candidates] = await behind.candidates([Float32Array.from([0, 1])], 5);
    expect(candidates.map((c) => c.id)).toEqual(['kept']);
  });
});
