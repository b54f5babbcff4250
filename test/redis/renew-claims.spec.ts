import Redis from 'ioredis';
import { EventStream } from '../../src/stream/event-stream';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const STREAM = 'test:renew-claims';
const GROUP = 'g';

describe('renew-claims.lua through EventStream.renewClaims', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(1)));
  afterEach(async () => closeTestRedis(redis));

  /** Pending rows by id: [owner, idle ms, deliveries]. */
  async function pending(): Promise<Map<string, [string, number, number]>> {
    const rows = (await redis.xpending(STREAM, GROUP, '-', '+', 100)) as Array<
      [string, string, number, number]
    >;
    return new Map(rows.map(([id, owner, idle, deliveries]) => [id, [owner, idle, deliveries]]));
  }

  it('resets the idle time of its own entries only, counting no delivery', async () => {
    await redis.xgroup('CREATE', STREAM, GROUP, '0', 'MKSTREAM');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await redis.xadd(STREAM, '*', 'n', String(i)))!);
    const mine = new EventStream(redis, redis, STREAM, GROUP, 'mine');
    await mine.readNew(3, 10);
    // Another consumer took the last entry over (it thought this one dead); one is acknowledged.
    await redis.xclaim(STREAM, GROUP, 'other', 0, ids[2]);
    await mine.ack([ids[1]]);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(await mine.renewClaims(ids)).toBe(1);

    const after = await pending();
    expect(after.get(ids[0])?.[0]).toBe('mine');
    expect(after.get(ids[0])?.[1]).toBeLessThan(100);
    expect(after.get(ids[0])?.[2]).toBe(1);
    expect(after.has(ids[1])).toBe(false);
    expect(after.get(ids[2])?.[0]).toBe('other');
    expect(after.get(ids[2])?.[1]).toBeGreaterThanOrEqual(250);
    expect(await mine.renewClaims([])).toBe(0);
  });

  it('renews more entries than one call takes (slices of 500)', async () => {
    await redis.xgroup('CREATE', STREAM, GROUP, '0', 'MKSTREAM');
    const add = redis.pipeline();
    for (let i = 0; i < 1200; i++) add.xadd(STREAM, '*', 'n', String(i));
    const ids = ((await add.exec()) ?? []).map(([, id]) => id as string);
    const mine = new EventStream(redis, redis, STREAM, GROUP, 'mine');
    await mine.readNew(1200, 10);

    expect(await mine.renewClaims(ids)).toBe(1200);
    const [count] = (await redis.xpending(STREAM, GROUP)) as [number];
    expect(count).toBe(1200);
  });
});
