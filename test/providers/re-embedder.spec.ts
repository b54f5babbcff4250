import { Keyspace } from '../../src/redis/keyspace';
import { Redis } from 'ioredis';
import { CalibrationStore } from '../../src/calibration/calibration.store';
import { ClusterStateStore } from '../../src/clusters/cluster-state.store';
import { decodeVectorRecord, encodeInt8Record } from '../../src/item-vectors/vector-record';
import { cosine, packVector } from '../../src/math/vector-math';
import { EmbedOutcome, Embedder } from '../../src/ports/embedder.port';
import { GeminiEmbedder } from '../../src/providers/gemini/gemini-embedder';
import { reEmbed } from '../../src/providers/reembed/re-embedder';
import { ClusterKeys, FeedbackKeys, ServiceKeys } from '../../src/redis/keys';
import { GeminiStandIn } from '../stand-ins/gemini-stand-in';
import { TEST_REDIS_URL } from '../support/test-redis';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 13;
const REDIS_URL = TEST_REDIS_URL;
const OLD_MODEL = 'local-v1';
const TOPICS = ['login fails on android', 'dark mode colours wrong', 'export to csv crashes'];

/** Passes calls through to another embedder, recording texts, and can crash on a given call. */
class ObservedEmbedder implements Embedder {
  readonly texts: string[] = [];
  private calls = 0;
  constructor(
    private readonly inner: Embedder,
    private readonly crashOnCall = Infinity,
  ) {}
  get model(): string {
    return this.inner.model;
  }
  get dimensions(): number {
    return this.inner.dimensions;
  }
  get cheapToRecompute(): boolean {
    return this.inner.cheapToRecompute;
  }
  async embed(texts: readonly string[]): Promise<EmbedOutcome[]> {
    if (++this.calls === this.crashOnCall) throw new Error('process killed');
    this.texts.push(...texts);
    return this.inner.embed(texts);
  }
}

describe('reEmbed', () => {
  let redis: Redis;
  let gemini: GeminiStandIn;
  let target: GeminiEmbedder;
  const clusterIds = TOPICS.map((_, i) => `cluster-${i}`);

  beforeEach(async () => {
    redis = new Redis(REDIS_URL, { db: DB });
    await redis.flushdb();
    gemini = await new GeminiStandIn().start();
    target = new GeminiEmbedder({
      apiKey: gemini.apiKey,
      baseUrl: gemini.url,
      dimensions: 128,
      backoffBaseMs: 10,
    });
    await seedOldModelClusters();
  });

  afterEach(async () => {
    await gemini.stop();
    await redis.flushdb();
    await redis.quit();
  });

  /** Three clusters of three items each, with 4-d vectors of the old model. */
  async function seedOldModelClusters(): Promise<void> {
    const old = packVector(Float32Array.from([1, 0, 0, 0]));
    for (const [c, topic] of TOPICS.entries()) {
      const id = clusterIds[c];
      const seq = await redis.incr(ServiceKeys.indexSeq);
      const write = redis
        .multi()
        .hset(ClusterKeys.cluster(id), {
          id,
          status: 'new',
          size: '3',
          title: topic,
          embedding_model: OLD_MODEL,
          centroid: '[1,0,0,0]',
        })
        .sadd(ClusterKeys.all, id)
        .hset(ServiceKeys.anchors, id, old)
        .zadd(ServiceKeys.indexChanges, seq, id);
      for (let i = 0; i < 3; i++) {
        const itemId = `${id}-item-${i}`;
        write
          .hset(FeedbackKeys.item(itemId), {
            id: itemId,
            source: 'reddit',
            title: `${topic} ${i}`,
            body: `Users say ${topic} again, case ${i}.`,
            created_at: '2024-05-01T12:00:00+00:00',
            clustered: 'true',
            cluster_id: id,
          })
          .sadd(ClusterKeys.items(id), itemId)
          .hset(
            ServiceKeys.itemVectors,
            itemId,
            encodeInt8Record(Float32Array.from([1, 0, 0, 0]), OLD_MODEL),
          );
      }
      await write.exec();
    }
  }

  async function expectConverted(id: string): Promise<void> {
    const hash = await redis.hgetall(ClusterKeys.cluster(id));
    expect(hash.embedding_model).toBe(target.model);
    const members = await redis.smembers(ClusterKeys.items(id));
    // Hosted-model vectors are stored as 6-bit records tagged with the new model.
    const vectors = (await redis.hmgetBuffer(ServiceKeys.itemVectors, ...members)).map((b) =>
      decodeVectorRecord(b as Buffer, target.model),
    ) as Float32Array[];
    expect(vectors.every((v) => v?.length === 128)).toBe(true);
    const centroid = JSON.parse(hash.centroid) as number[];
    expect(centroid).toHaveLength(128);
    for (let d = 0; d < 128; d++) {
      expect(centroid[d]).toBeCloseTo((vectors[0][d] + vectors[1][d] + vectors[2][d]) / 3, 2);
    }
    const anchorRecord = (await redis.hgetBuffer(ServiceKeys.anchors, id)) as Buffer;
    const anchor = decodeVectorRecord(anchorRecord, target.model) as Float32Array;
    expect(Math.max(...vectors.map((v) => cosine(v, anchor)))).toBeGreaterThan(0.999);
  }

  it('converts every cluster to the new model and announces each change to the replicas', async () => {
    const progress: number[] = [];

    const report = await reEmbed({
      redis,
      embedder: target,
      itemsPerCall: 4,
      onProgress: ({ processed }) => progress.push(processed),
    });

    expect(report).toMatchObject({
      model: 'gemini-embedding-001@128',
      clusters: 3,
      converted: 3,
      alreadyDone: 0,
      failed: [],
      itemsEmbedded: 9,
      itemsReused: 0,
    });
    for (const id of clusterIds) await expectConverted(id);
    expect(progress.at(-1)).toBe(3);
    // Replicas following the change feed from where they were now load the new clusters.
    const feed = await new ClusterStateStore(redis, Keyspace.flat()).changesSince(3, target.model);
    expect(feed.live.map((s) => s.id).sort()).toEqual(clusterIds);
    expect(feed.live[0].centroid).toHaveLength(128);
    // The new model's calibration is rebuilt from its items: their count and mean direction.
    const calibration = await new CalibrationStore(redis, Keyspace.flat()).load(target.model);
    expect(calibration.count).toBe(9);
    // (The stored item vectors are int8 records: their mean matches to quantisation precision.)
    const items = (await redis.hvalsBuffer(ServiceKeys.itemVectors)).map(
      (record) => decodeVectorRecord(record, target.model) as Float32Array,
    );
    for (const d of [0, 17, 127]) {
      const mean = items.reduce((sum, v) => sum + v[d], 0) / items.length;
      expect(calibration.mean[d]).toBeCloseTo(mean, 2);
    }
  });

  it('resumes after an interruption without redoing finished clusters', async () => {
    // Four items per call: the first call covers cluster-0 and cluster-1, the second crashes.
    const crashing = new ObservedEmbedder(target, 2);
    await expect(reEmbed({ redis, embedder: crashing, itemsPerCall: 4 })).rejects.toThrow(
      'process killed',
    );
    const doneBefore = await redis.smembers(Keyspace.flat().service.reembedDone(target.model));
    expect(doneBefore.sort()).toEqual(['cluster-0', 'cluster-1']);
    expect(await redis.hget(ClusterKeys.cluster('cluster-2'), 'embedding_model')).toBe(OLD_MODEL);

    const resumed = new ObservedEmbedder(target);
    const report = await reEmbed({ redis, embedder: resumed, itemsPerCall: 4 });

    expect(report).toMatchObject({ clusters: 3, converted: 1, alreadyDone: 2, failed: [] });
    expect(resumed.texts).toHaveLength(3);
    expect(resumed.texts.every((t) => t.includes('export to csv'))).toBe(true);
    for (const id of clusterIds) await expectConverted(id);
  });

  it('leaves clusters whose items could not be embedded on their old vectors, to retry later', async () => {
    gemini.inject({ kind: 'server_error' }, Infinity, 'embed');
    const failing = new GeminiEmbedder({
      apiKey: gemini.apiKey,
      baseUrl: gemini.url,
      dimensions: 128,
      maxRetries: 0,
    });

    const report = await reEmbed({ redis, embedder: failing });

    expect(report.converted).toBe(0);
    expect(report.failed.map((f) => f.clusterId).sort()).toEqual(clusterIds);
    expect(report.failed[0].reason).toMatch(/HTTP 500/);
    expect(await redis.hget(ClusterKeys.cluster('cluster-0'), 'embedding_model')).toBe(OLD_MODEL);
    expect(await redis.scard(Keyspace.flat().service.reembedDone(target.model))).toBe(0);
  });
});
