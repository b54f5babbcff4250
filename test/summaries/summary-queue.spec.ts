import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { AssignmentPlan } from '../../src/pipeline/assign/assign-batch';
import { BatchPersister } from '../../src/pipeline/persist/batch-persister';
import { SummarizeStage } from '../../src/pipeline/summarize/summarize-stage';
import { ClusterSummary, SummaryInput, Summarizer } from '../../src/ports/summarizer.port';
import { ExtractiveSummarizer } from '../../src/providers/local/extractive-summarizer';
import { DistributedLock } from '../../src/redis/distributed-lock';
import { ServiceKeys } from '../../src/redis/keys';
import { SummaryQueue } from '../../src/summaries/summary-queue';
import { SummaryRateLimit } from '../../src/summaries/summary-rate-limit';
import { SummaryWorker } from '../../src/summaries/summary-worker';
import { ItemVectors } from '../../src/item-vectors/item-vectors';
import { closeTestRedis, openTestRedis, waitFor } from '../support/test-redis';
import { TopicEmbedder } from '../support/topic-embedder';

/** Item vectors as the local embedder has them: recomputed from the text, not stored. */
function vectorsOf(redis: Redis): ItemVectors {
  return new ItemVectors(redis, Keyspace.flat(), new TopicEmbedder(), 'auto', 4000);
}

/** A model summarizer stand-in that takes `latencyMs` and records what it was asked, in order. */
class SlowModel implements Summarizer {
  readonly name = 'model:test';
  readonly asked: string[] = [];
  constructor(private readonly latencyMs: number) {}
  async summarize(input: SummaryInput): Promise<ClusterSummary> {
    this.asked.push(input.clusterId);
    await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    return {
      title: `Model title for ${input.size} items`,
      summary: 'A model summary. See https://evil.example/pwn',
      issueTitle: 'Model issue',
      issueDescription: 'Model description.',
    };
  }
}

/** Persists one new cluster of `size` items, as the pipeline would (queue entry included). */
async function persistCluster(redis: Redis, clusterId: string, size: number): Promise<void> {
  const ids = Array.from({ length: size }, (_, i) => `${clusterId}-item${i}`);
  for (const id of ids) {
    await redis.hset(`feedback:${id}`, {
      id,
      source: 'reddit',
      title: `login fails ${id}`,
      body: '',
      clustered: 'false',
    });
    await redis.sadd('feedback:unclustered', id);
  }
  const v = Float32Array.from([1, 0]);
  const plan: AssignmentPlan = {
    assignments: ids.map((itemId) => ({ itemId, clusterId, similarity: 1 })),
    changes: [
      { state: { id: clusterId, centroid: v, anchor: v, size }, created: true, addedItemIds: ids },
    ],
  };
  const lock = new DistributedLock(redis, ServiceKeys.assignLock, 5000);
  const lease = (await lock.acquire(5000))!;
  await new BatchPersister(redis, Keyspace.flat(), vectorsOf(redis), {
    queueNew: true,
    growth: 0.25,
  }).persist(lease, {
    plan,
    vectors: new Map(ids.map((id) => [id, v])),
    sources: new Map(ids.map((id) => [id, 'reddit'])),
    newClusterText: new Map(),
    model: 'test-model',
  });
  await lock.release(lease);
}

describe('summary queue (claim-summary.lua, complete-summary.lua, take-summary-token.lua)', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(1)));
  afterEach(async () => closeTestRedis(redis));

  it('one token bucket for the whole deployment: replicas share GEMINI_SUMMARIES_PER_MINUTE', async () => {
    const replicaA = new SummaryRateLimit(redis, 60);
    const replicaB = new SummaryRateLimit(redis, 60);
    const waits: number[] = [];
    // 60 a minute: a burst of ten seconds' worth, whoever asks.
    for (let i = 0; i < 10; i++) waits.push(await (i % 2 ? replicaA : replicaB).take());
    expect(waits).toEqual(Array(10).fill(0));
    const next = await replicaA.take();
    expect(next).toBeGreaterThan(800);
    expect(next).toBeLessThanOrEqual(1000);
    expect(await replicaB.take()).toBeGreaterThan(800);
  });

  it('hands out the most urgent entry first, and never the same entry to two replicas', async () => {
    await persistCluster(redis, 'small', 1);
    await persistCluster(redis, 'large', 5);
    const replicaA = new SummaryQueue(redis, Keyspace.flat(), 60_000, 0.25);
    const replicaB = new SummaryQueue(redis, Keyspace.flat(), 60_000, 0.25);

    expect((await replicaA.claim())?.clusterId).toBe('large');
    expect((await replicaB.claim())?.clusterId).toBe('small');
    expect(await replicaA.claim()).toBeUndefined();
    // Still queued while claimed: one entry per cluster, claimed or not.
    expect(await redis.zcard(ServiceKeys.summaryQueue)).toBe(2);
  });

  it('gives a dead replica’s entry to another once its claim lapses', async () => {
    await persistCluster(redis, 'c1', 2);
    const dying = new SummaryQueue(redis, Keyspace.flat(), 100, 0.25);
    const survivor = new SummaryQueue(redis, Keyspace.flat(), 100, 0.25);
    expect((await dying.claim())?.clusterId).toBe('c1');
    expect(await survivor.claim()).toBeUndefined();

    await new Promise((resolve) => setTimeout(resolve, 150));

    expect((await survivor.claim())?.clusterId).toBe('c1');
  });

  it('keeps the entry when the cluster grew enough during the call, and drops a gone cluster', async () => {
    await persistCluster(redis, 'c1', 4);
    await persistCluster(redis, 'gone', 1);
    const queue = new SummaryQueue(redis, Keyspace.flat(), 60_000, 0.25);
    await queue.claim();
    await redis.hset('cluster:c1', 'size', 5);
    const summary = {
      title: 't',
      summary: 's',
      issueTitle: 'i',
      issueDescription: 'd',
      summaryModel: 'model:test',
    };

    expect(await queue.complete('c1', { summary, size: 4 })).toBe(true);
    expect(await redis.zscore(ServiceKeys.summaryQueue, 'c1')).not.toBeNull();
    expect(await redis.hget('cluster:c1', 'summary_model')).toBe('model:test');
    expect(await redis.hget(ServiceKeys.summarizedAt, 'c1')).toBe('4');

    await redis.srem('clusters:all', 'gone');
    expect(await queue.complete('gone', { summary, size: 1 })).toBe(false);
    expect(await redis.zscore(ServiceKeys.summaryQueue, 'gone')).toBeNull();
  });

  describe('SummaryWorker', () => {
    function worker(model: Summarizer, perMinute?: number, claimMs = 60_000) {
      const stage = new SummarizeStage(
        redis,
        Keyspace.flat(),
        model,
        new ExtractiveSummarizer(),
        vectorsOf(redis),
        {
          growth: 0.25,
          maxTextChars: 4000,
        },
      );
      return new SummaryWorker(
        new SummaryQueue(redis, Keyspace.flat(), claimMs, 0.25),
        stage,
        perMinute ? new SummaryRateLimit(redis, perMinute) : undefined,
        { concurrency: 1, idlePollMs: 20 },
      );
    }

    it('rewrites the largest clusters first, saying which summarizer wrote the text, links removed', async () => {
      for (const [id, size] of [
        ['c1', 1],
        ['c2', 6],
        ['c3', 3],
      ] as const) {
        await persistCluster(redis, id, size);
      }
      const model = new SlowModel(10);
      const running = worker(model);
      running.start();
      await waitFor(
        async () => (await redis.zcard(ServiceKeys.summaryQueue)) === 0,
        5000,
        'queue drained',
      );
      await running.stop((work) => work.then(() => true));

      expect(model.asked).toEqual(['c2', 'c3', 'c1']);
      const c2 = await redis.hgetall('cluster:c2');
      expect(c2).toMatchObject({ title: 'Model title for 6 items', summary_model: 'model:test' });
      expect(c2.summary).not.toContain('evil.example');
    });

    it('on stop, gives back what it holds so another replica takes it at once', async () => {
      await persistCluster(redis, 'c1', 2);
      const running = worker(new SlowModel(2_000));
      running.start();
      await waitFor(
        async () => (await redis.zcard(ServiceKeys.summaryClaims)) === 1,
        5000,
        'a claim',
      );

      await running.stop(async () => false);

      expect(await redis.zcard(ServiceKeys.summaryClaims)).toBe(0);
      expect(await redis.zscore(ServiceKeys.summaryQueue, 'c1')).not.toBeNull();
      expect(
        (await new SummaryQueue(redis, Keyspace.flat(), 60_000, 0.25).claim())?.clusterId,
      ).toBe('c1');
    });

    it('waits for the rate limit rather than falling back', async () => {
      await persistCluster(redis, 'c1', 2);
      await persistCluster(redis, 'c2', 1);
      // 6 a minute: a burst of one, then one every 10 s.
      const model = new SlowModel(0);
      const running = worker(model, 6);
      running.start();
      await waitFor(async () => model.asked.length === 1, 5000, 'the first summary');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await running.stop((work) => work.then(() => true));

      expect(model.asked).toEqual(['c1']);
      expect(await redis.hget('cluster:c2', 'summary_model')).toBe('none');
      expect(await redis.zscore(ServiceKeys.summaryQueue, 'c2')).not.toBeNull();
    });
  });
});
