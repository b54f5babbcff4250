import Redis from 'ioredis';

/**
 * Test files own Redis databases so they never see each other's keys:
 * 1-3 core pipeline and stream, 4-7 jobs/HTTP, 8-11 producers, 12-14 providers;
 * 10 hostile items through a real service process (test/stream/hostile-items.spec.ts);
 * 1 Lua script specs, 3 pipeline updates and the small chaos run, 11 unannounced items;
 * 14 trends over HTTP, 15 webhook alerts.
 */
/**
 * The Redis server the tests use: `TEST_REDIS_URL` (no database index), so that several
 * checkouts can run their suites at once against servers of their own; 127.0.0.1:6379 by default.
 */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function openTestRedis(db: number): Promise<Redis> {
  const redis = new Redis(TEST_REDIS_URL, { db, maxRetriesPerRequest: 3 });
  await redis.flushdb();
  return redis;
}

export async function closeTestRedis(redis: Redis): Promise<void> {
  await redis.flushdb();
  await redis.quit();
}

export function redisUrl(db: number): string {
  return `${TEST_REDIS_URL}/${db}`;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
