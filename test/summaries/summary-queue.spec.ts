import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { SummarizeStage } from '../../src/pipeline/summarize/summarize-stage';
import { ClusterSummary, SummaryInput, Summarizer } from '../../src/ports/summarizer.port';
import { ExtractiveSummarizer } from '../../src/providers/local/extractive-summarizer';
import { ServiceKeys } from '../../src/redis/keys';
import { SummaryQueue } from '../../src/summaries/summary-queue';
import { SummaryRateLimit } from '../../src/summaries/summary-rate-limit';
import { SummaryWorker } from '../../src/summaries/summary-worker';
import { persistQueuedCluster, vectorsOf } from '../support/queued-cluster';
import { closeTestRedis, openTestRedis, waitFor } from '../support/test-redis';

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
    await persistQueuedCluster(redis, 'small', 1);
    await persistQueuedCluster(redis, 'large', 5);
    const replicaA = new SummaryQueue(redis, Keyspace.flat(), 60_000, 0.25);
    const replicaB = new SummaryQueue(redis, Keyspace.flat(), 60_000, 0.25);

    expect((await replicaA.claim())?.clusterId).toBe('large');
    expect((await replicaB.claim())?.clusterId).toBe('small');
    expect(await replicaA.claim()).toBeUndefined();
    // Still queued while claimed: one entry per cluster, claimed or not.
    expect(await redis.zcard(ServiceKeys.summaryQueue)).toBe(2);
  });

  it('gives a dead replica’s entry to another once its claim lapses', async () => {
    await persistQueuedCluster(redis, 'c1', 2);
    const dying = new SummaryQueue(redis, Keyspace.flat(), 100, 0.25);
    const survivor = new SummaryQueue(redis, Keyspace.flat(), 100, 0.25);
    expect((await dying.claim())?.clusterId).toBe('c1');
    expect(await survivor.claim()).toBeUndefined();

    await new Promise((resolve) => setTimeout(resolve, 150));

    expect((await survivor.claim())?.clusterId).toBe('c1');
  });

  it('keeps the entry when the cluster grew enough during the call, and drops a gone cluster', async () => {
    await persistQueuedCluster(redis, 'c1', 4);
    await persistQueuedCluster(redis, 'gone', 1);
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
    function stageOf(model: Summarizer, keys = Keyspace.flat()): SummarizeStage {
      return new SummarizeStage(
        redis,
        keys,
        model,
        new ExtractiveSummarizer(),
        vectorsOf(redis, keys),
        {
          growth: 0.25,
          maxTextChars: 4000,
        },
      );
    }

    function worker(model: Summarizer, perMinute?: number, claimMs = 60_000) {
      const summaries = {
        queue: new SummaryQueue(redis, Keyspace.flat(), claimMs, 0.25),
        stage: stageOf(model),
      };
      return new SummaryWorker(
        { projects: async () => [undefined], of: async () => summaries },
        perMinute ? new SummaryRateLimit(redis, perMinute) : undefined,
        { concurrency: 1, idlePollMs: 20, refreshProjectsMs: 60_000 },
      );
    }

    it('rewrites the largest clusters first, saying which summarizer wrote the text, links removed', async () => {
      for (const [id, size] of [
        ['c1', 1],
        ['c2', 6],
        ['c3', 3],
      ] as const) {
        await persistQueuedCluster(redis, id, size);
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
      await persistQueuedCluster(redis, 'c1', 2);
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
      await persistQueuedCluster(redis, 'c1', 2);
      await persistQueuedCluster(redis, 'c2', 1);
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

    describe('in the project layout (CONTRACT §7): a queue per project', () => {
      const P = '3f0c2a4e-8d1b-4c6a-9e7f-0a1b2c3d4e5f';
      const OTHER = 'ckz9x1y2z0000qwerty12345';

      function projectWorker(model: Summarizer, projects: () => string[], failing?: string) {
        return new SummaryWorker(
          {
            projects: async () => projects(),
            of: async (project) => {
              if (project === failing) throw new Error(`project ${project} is broken`);
              const keys = Keyspace.project(project!);
              return {
                queue: new SummaryQueue(redis, keys, 60_000, 0.25),
                stage: stageOf(model, keys),
              };
            },
          },
          undefined,
          { concurrency: 1, idlePollMs: 20, refreshProjectsMs: 50 },
        );
      }

      const queued = (project: string) =>
        redis.zcard(Keyspace.project(project).service.summaryQueue);

      it('takes the projects in turn: a long queue does not starve a short one', async () => {
        for (let i = 0; i < 6; i++)
          await persistQueuedCluster(redis, `p${i}`, 6 - i, Keyspace.project(P));
        for (let i = 0; i < 2; i++)
          await persistQueuedCluster(redis, `o${i}`, 1, Keyspace.project(OTHER));
        const model = new SlowModel(5);
        const running = projectWorker(model, () => [P, OTHER]);
        running.start();
        await waitFor(
          async () => (await queued(P)) + (await queued(OTHER)) === 0,
          5000,
          'both queues drained',
        );
        await running.stop((work) => work.then(() => true));

        // Each queue in its own order of urgency, the two interleaved.
        expect(model.asked.slice(0, 4).sort()).toEqual(['o0', 'o1', 'p0', 'p1']);
        expect(model.asked.filter((id) => id.startsWith('p'))).toEqual([
          'p0',
          'p1',
          'p2',
          'p3',
          'p4',
          'p5',
        ]);
        expect(await redis.hget(`cluster:${OTHER}:o1`, 'summary_model')).toBe('model:test');
        expect(await redis.hget(`cluster:${P}:p5`, 'summary_model')).toBe('model:test');
      });

      it('works the other projects while one fails, and serves a project that appears later', async () => {
        const LATER = 'b7e1d2c3-0000-4000-8000-123456789abc';
        await persistQueuedCluster(redis, 'p0', 2, Keyspace.project(P));
        await persistQueuedCluster(redis, 'o0', 2, Keyspace.project(OTHER));
        const projects = [P, OTHER];
        const model = new SlowModel(0);
        const running = projectWorker(model, () => projects, P);
        running.start();
        await waitFor(async () => (await queued(OTHER)) === 0, 5000, 'the healthy project drained');

        await persistQueuedCluster(redis, 'l0', 1, Keyspace.project(LATER));
        projects.push(LATER);
        await waitFor(async () => (await queued(LATER)) === 0, 5000, 'the new project drained');
        await running.stop((work) => work.then(() => true));

        expect(model.asked).toEqual(['o0', 'l0']);
        expect(await queued(P)).toBe(1);
      });
    });
  });
});
