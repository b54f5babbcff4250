import { Keyspace } from '../../src/redis/keyspace';
import { Redis } from 'ioredis';
import { ClusterStateStore } from '../../src/clusters/cluster-state.store';
import {
  UpstashVectorIndex,
  UpstashVectorIndexOptions,
} from '../../src/providers/upstash/upstash-vector-index';
import { UpstashStandIn } from '../stand-ins/upstash-stand-in';
import { markMergedAway, writeLiveCluster } from '../support/cluster-state-fixtures';
import { TEST_REDIS_URL } from '../support/test-redis';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 12;
const REDIS_URL = TEST_REDIS_URL;
const MODEL = 'gemini-embedding-001@8';
const DIMENSIONS = 8;

/** A unit vector along one axis, slightly tilted towards the next. */
function direction(axis: number): Float32Array {
  const v = new Float32Array(DIMENSIONS);
  v[axis % DIMENSIONS] = 1;
  v[(axis + 1) % DIMENSIONS] = 0.1;
  return v;
}

describe('UpstashVectorIndex', () => {
  let redis: Redis;
  let upstash: UpstashStandIn;
  const indexes: UpstashVectorIndex[] = [];

  beforeEach(async () => {
    redis = new Redis(REDIS_URL, { db: DB });
    await redis.flushdb();
    upstash = await new UpstashStandIn(DIMENSIONS).start();
  });

  afterEach(async () => {
    await upstash.stop();
    await redis.flushdb();
    await redis.quit();
    indexes.length = 0;
  });

  function index(
    options: Partial<UpstashVectorIndexOptions> = {},
    keys = Keyspace.flat(),
  ): UpstashVectorIndex {
    const created = new UpstashVectorIndex(new ClusterStateStore(redis, keys), redis, keys, {
      url: upstash.url,
      token: upstash.token,
      model: MODEL,
      dimensions: DIMENSIONS,
      backoffBaseMs: 10,
      ...options,
    });
    indexes.push(created);
    return created;
  }

  const persistCluster = (id: string, centroid: Float32Array, model = MODEL) =>
    writeLiveCluster(redis, id, centroid, model);
  const mergeAway = (id: string) => markMergedAway(redis, id);

  const ids = (candidates: Array<{ id: string }>) => candidates.map((c) => c.id).sort();

  it('refuses to start when the index dimensions differ from the embedder, naming both', async () => {
    const mismatched = index({ dimensions: 768 });

    await expect(mismatched.verifyDimensions()).rejects.toThrow(
      `Upstash Vector index has 8 dimensions, but the embedder ${MODEL} makes 768-dimensional vectors`,
    );
    await expect(index().verifyDimensions()).resolves.toBeUndefined();
  });

  it('pushes changed centroids to the centroids namespace and finds them by query', async () => {
    const vectors = index();
    await vectors.verifyDimensions();
    await vectors.refresh();
    await persistCluster('a', direction(0));
    await persistCluster('b', direction(4));
    await vectors.clustersChanged([], []);
    await vectors.settled();

    expect(upstash.ids('centroids').sort()).toEqual(['a', 'b']);
    expect(upstash.paths).toContain('/upsert/centroids');
    const fresh = index({ recentWindowMs: 0 });
    await fresh.refresh();
    const [near] = await fresh.candidates([direction(0)], 1);
    // k × oversample = 3 nearest, with their authoritative state from Redis.
    expect(ids(near)).toEqual(['a', 'b']);
    const a = near.find((c) => c.id === 'a');
    expect(a?.size).toBe(3);
    expect(Array.from(a?.centroid ?? [])).toEqual(Array.from(direction(0)));
  });

  it('keeps each project of the project layout in namespaces of its own', async () => {
    const alpha = Keyspace.project('alpha-project');
    const beta = Keyspace.project('beta-project');
    const alphaIndex = index({}, alpha);
    const betaIndex = index({}, beta);
    await alphaIndex.refresh();
    await betaIndex.refresh();
    // The same cluster id in both projects, on different topics.
    await writeLiveCluster(redis, 'same-id', direction(0), MODEL, 3, alpha);
    await writeLiveCluster(redis, 'same-id', direction(4), MODEL, 3, beta);
    await alphaIndex.clustersChanged([], []);
    await betaIndex.clustersChanged([], []);
    await alphaIndex.settled();
    await betaIndex.settled();

    expect(upstash.ids('alpha-project:centroids')).toEqual(['same-id']);
    expect(upstash.ids('beta-project:centroids')).toEqual(['same-id']);
    expect(upstash.ids('centroids')).toEqual([]);
    expect(upstash.vectorOf('alpha-project:centroids', 'same-id')).not.toEqual(
      upstash.vectorOf('beta-project:centroids', 'same-id'),
    );
  });

  it('still matches a cluster whose upsert Upstash does not show yet', async () => {
    upstash.visibilityDelayMs = 60_000;
    const writer = index();
    const otherReplica = index();
    await writer.refresh();
    await otherReplica.refresh();
    await persistCluster('fresh', direction(2));
    await writer.clustersChanged([], []);
    await writer.settled();
    await otherReplica.refresh();

    const [mine] = await writer.candidates([direction(2)], 3);
    const [theirs] = await otherReplica.candidates([direction(2)], 3);

    expect(upstash.ids('centroids')).toEqual(['fresh']);
    expect(ids(mine)).toEqual(['fresh']);
    expect(ids(theirs)).toEqual(['fresh']);
  });

  it('pushes a change whose replica died before pushing it', async () => {
    const survivor = index();
    await survivor.refresh();
    await persistCluster('orphan', direction(1));

    await survivor.refresh();
    await survivor.settled();

    expect(upstash.ids('centroids')).toEqual(['orphan']);
  });

  it('forgets everything it held when the change feed went backwards (FLUSHDB, failover)', async () => {
    const vectors = index({ recentWindowMs: 60_000 });
    await vectors.verifyDimensions();
    await persistCluster('before', direction(5));
    await persistCluster('also-before', direction(6));
    await vectors.refresh();

    // The data is replaced: the sequence restarts below what the replica has seen.
    await redis.flushdb();
    await persistCluster('after', direction(5));
    await vectors.refresh();

    const [candidates] = await vectors.candidates([direction(5)], 3);
    expect(ids(candidates)).toEqual(['after']);
    // The sync runs in the background (never under the assignment lock).
    await vectors.settled();
    expect(upstash.ids('centroids')).toContain('after');
  });

  it('forgets merged clusters and clusters of another model', async () => {
    const vectors = index({ recentWindowMs: 0 });
    await vectors.refresh();
    await persistCluster('kept', direction(3));
    await persistCluster('merged', direction(3));
    await persistCluster('old-model', direction(3), 'local-v1');
    await vectors.clustersChanged([], []);
    await vectors.settled();
    await mergeAway('merged');
    await vectors.clustersChanged([], ['merged']);
    await vectors.settled();

    const [candidates] = await vectors.candidates([direction(3)], 5);

    expect(ids(candidates)).toEqual(['kept']);
    expect(upstash.ids('centroids')).toEqual(['kept']);
  });

  it('retries a rate-limited query and gives each query its own candidates', async () => {
    const vectors = index({ recentWindowMs: 0 });
    await vectors.refresh();
    await persistCluster('x', direction(0));
    await persistCluster('y', direction(5));
    await vectors.clustersChanged([], []);
    await vectors.settled();
    upstash.inject({ kind: 'rate_limit' }, 2);

    const [nearX, nearY] = await vectors.candidates([direction(0), direction(5)], 1);

    expect(nearX.map((c) => c.id)).toContain('x');
    expect(nearY.map((c) => c.id)).toContain('y');
  });

  it('stores item vectors in the items namespace', async () => {
    await index().upsertItems([
      { id: 'f1', vector: direction(0) },
      { id: 'f2', vector: direction(1) },
    ]);

    expect(upstash.ids('items').sort()).toEqual(['f1', 'f2']);
    expect(upstash.ids('centroids')).toEqual([]);
  });

  it('reports readiness from a cheap GET /info call', async () => {
    const vectors = index();
    await vectors.verifyDimensions();
    expect(upstash.calls).toEqual(['GET /info']);
    expect((await vectors.checkReady()).ok).toBe(true);
    const wrongToken = index({ token: 'nope' });
    await expect(wrongToken.verifyDimensions()).rejects.toThrow(/HTTP 401/);
    expect((await wrongToken.checkReady()).ok).toBe(false);
  });

  it('deletes merged clusters with DELETE /delete/centroids', async () => {
    const vectors = index();
    await vectors.refresh();
    await persistCluster('gone', direction(1));
    await vectors.clustersChanged([], []);
    await vectors.settled();
    await mergeAway('gone');
    await vectors.clustersChanged([], ['gone']);
    await vectors.settled();

    expect(upstash.calls).toContain('DELETE /delete/centroids');
    expect(upstash.ids('centroids')).toEqual([]);
  });

  it('fails a vector of the wrong size at once (422), without retrying', async () => {
    await expect(
      index().upsertItems([{ id: 'f1', vector: new Float32Array(DIMENSIONS + 1) }]),
    ).rejects.toThrow(/HTTP 422: Invalid vector dimension/);
    expect(upstash.paths.filter((p) => p.startsWith('/upsert'))).toHaveLength(1);
  });

  it('retries a daily-quota 429 like any rate limit', async () => {
    upstash.inject({ kind: 'daily_quota' }, 1);
    await index().upsertItems([{ id: 'f1', vector: direction(0) }]);
    expect(upstash.ids('items')).toEqual(['f1']);
  });

  it('searches the centroids in Redis exactly while Upstash is down, and counts it', async () => {
    const fallbacks: string[] = [];
    const vectors = index({
      recentWindowMs: 0,
      maxRetries: 0,
      metrics: {
        call: () => undefined,
        retry: () => undefined,
        fallback: (p, o, r) => fallbacks.push(`${p}:${o}:${r}`),
      },
    });
    await persistCluster('near', direction(0));
    await persistCluster('far', direction(4));
    upstash.inject({ kind: 'unavailable' }, Infinity);

    const proposals = await vectors.propose([direction(0)], 1);
    const [found] = await vectors.candidates([direction(0)], 1, proposals);

    expect(proposals).toBe('unavailable');
    expect(ids(found)).toEqual(['far', 'near']);
    expect(found.find((c) => c.id === 'near')?.size).toBe(3);
    expect(fallbacks).toEqual(['upstash:query:unavailable']);
  });

  it('waits at start-up while Upstash is down, unready, and goes on once it answers', async () => {
    upstash.inject({ kind: 'unavailable' }, Infinity);
    const vectors = index({ maxRetries: 0 });
    let verified = false;
    const waiting = vectors.verifyWhenReachable(50).then(() => (verified = true));
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(verified).toBe(false);
    expect(await vectors.checkReady()).toMatchObject({ ok: false });

    upstash.clearFaults();
    await waiting;
    expect((await vectors.checkReady()).ok).toBe(true);
  });
});
