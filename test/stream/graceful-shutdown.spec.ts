import { Keyspace } from '../../src/redis/keyspace';
import { once } from 'node:events';
import Redis from 'ioredis';
import { FeedbackWriter, NewFeedback } from '../../src/feedback/feedback-writer';
import { startService } from '../../scripts/lib/service-process';
import { ServiceKeys } from '../../src/redis/keys';
import { GeminiStandIn } from '../stand-ins/gemini-stand-in';
import { contractViolations } from '../support/contract-invariants';
import { manyItems } from '../support/many-items';
import { closeTestRedis, openTestRedis, redisUrl, waitFor } from '../support/test-redis';

const DB = 2;

/** Items with few words in common, so that most found a cluster of their own (each owed a summary). */
function distinctItems(n: number): NewFeedback[] {
  const word = (i: number) => `w${(i * 7919) % 4001}x${(i * 104729) % 613}`;
  return Array.from({ length: n }, (_, i) => ({
    source: 'manual',
    title: [0, 1, 2, 3, 4].map((k) => word(i * 5 + k)).join(' '),
  }));
}

describe('SIGTERM during a batch (a real service process)', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(DB)));
  afterEach(async () => closeTestRedis(redis));

  it('stops within ECS’s 30 s, loses nothing, and a successor finishes the rest', async () => {
    const env = { BATCH_MAX_ITEMS: '50', CLAIM_IDLE_MS: '1000', SWEEP_ENABLED: 'false' };
    const first = await startService({ redisUrl: redisUrl(DB), env });
    const outcomes = await new FeedbackWriter(redis, Keyspace.flat()).writeMany(manyItems(3000));
    const total = outcomes.length;
    await waitFor(
      async () => (await redis.scard('feedback:unclustered')) < total,
      20_000,
      'work to start',
    );

    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    await once(first.child, 'exit');
    const stopMs = Date.now() - stoppedAt;
    expect(stopMs).toBeLessThan(30_000);
    // Stopped mid-stream: every item is clustered or still waiting (and its event not lost).
    expect(await contractViolations(redis)).toEqual([]);
    expect(await redis.scard('feedback:unclustered')).toBeGreaterThan(0);
    // It finished the batch in hand before exiting: nothing is left pending under its name.
    expect((await redis.xpending('feedback:events', 'clustering'))[0]).toBe(0);

    const successor = await startService({ redisUrl: redisUrl(DB), env });
    try {
      await waitFor(
        async () => (await redis.scard('feedback:unclustered')) === 0,
        60_000,
        'the successor to finish',
      );
    } finally {
      await successor.stop();
    }
    expect(await contractViolations(redis)).toEqual([]);
    const sizes = await Promise.all(
      (await redis.smembers('clusters:all')).map((id) => redis.scard(`cluster:items:${id}`)),
    );
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
  }, 120_000);

  it('with model summaries owed, exits within 30 s and leaves every one claimable', async () => {
    const gemini = await new GeminiStandIn().start();
    gemini.summaryLatencyMs = [800, 1500];
    let service: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      service = await startService({
        redisUrl: redisUrl(DB),
        env: {
          GEMINI_API_KEY: gemini.apiKey,
          GEMINI_BASE_URL: gemini.url,
          EMBEDDING_DIMENSIONS: '128',
          SWEEP_ENABLED: 'false',
        },
      });
      const total = (await new FeedbackWriter(redis, Keyspace.flat()).writeMany(distinctItems(600)))
        .length;
      await waitFor(
        async () =>
          (await redis.scard('feedback:unclustered')) === 0 &&
          (await redis.zcard(ServiceKeys.summaryClaims)) > 0,
        30_000,
        'everything clustered and summaries in flight',
      );
      const owed = await redis.zcard(ServiceKeys.summaryQueue);
      expect(owed).toBeGreaterThan(10);

      const stoppedAt = Date.now();
      const exited = once(service.child, 'exit');
      service.child.kill('SIGTERM');
      await exited;

      expect(Date.now() - stoppedAt).toBeLessThan(30_000);
      // Nothing is held by the dead process: any replica can claim what is owed at once.
      expect(await redis.zcard(ServiceKeys.summaryClaims)).toBe(0);
      expect(await redis.zcard(ServiceKeys.summaryQueue)).toBeGreaterThan(0);
      expect((await redis.xpending('feedback:events', 'clustering'))[0]).toBe(0);
      expect(await contractViolations(redis)).toEqual([]);
      expect(total).toBe(600);
    } finally {
      await service?.stop();
      await gemini.stop();
    }
  }, 120_000);
});
