import { once } from 'node:events';
import Redis from 'ioredis';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { startService } from '../../scripts/lib/service-process';
import { contractViolations } from '../support/contract-invariants';
import { manyItems } from '../support/many-items';
import { closeTestRedis, openTestRedis, redisUrl, waitFor } from '../support/test-redis';

const DB = 2;

describe('SIGTERM during a batch (a real service process)', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(DB)));
  afterEach(async () => closeTestRedis(redis));

  it('stops within ECS’s 30 s, loses nothing, and a successor finishes the rest', async () => {
    const env = { BATCH_MAX_ITEMS: '50', CLAIM_IDLE_MS: '1000', SWEEP_ENABLED: 'false' };
    const first = await startService({ redisUrl: redisUrl(DB), env });
    const outcomes = await new FeedbackWriter(redis).writeMany(manyItems(3000));
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
});
