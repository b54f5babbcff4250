import Redis from 'ioredis';
import { DistributedLock } from '../../src/redis/distributed-lock';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

describe('lock scripts (release-lock.lua, extend-lock.lua) through DistributedLock', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(1)));
  afterEach(async () => closeTestRedis(redis));

  it('lets one holder in at a time', async () => {
    const a = new DistributedLock(redis, 'clustering:lock:test', 5000);
    const b = new DistributedLock(redis, 'clustering:lock:test', 5000);
    const lease = await a.tryAcquire();
    expect(lease).toBeDefined();
    expect(await b.tryAcquire()).toBeUndefined();
  });

  it('release-lock.lua frees only the holder’s own lease', async () => {
    const lock = new DistributedLock(redis, 'clustering:lock:test', 5000);
    const lease = (await lock.tryAcquire())!;
    expect(await lock.release({ ...lease, token: 'someone-else' })).toBe(false);
    expect(await redis.get(lease.key)).toBe(lease.token);
    expect(await lock.release(lease)).toBe(true);
    expect(await redis.exists(lease.key)).toBe(0);
  });

  it('extend-lock.lua extends only the holder’s own lease', async () => {
    const lock = new DistributedLock(redis, 'clustering:lock:test', 300);
    const lease = (await lock.tryAcquire())!;
    expect(await lock.extend({ ...lease, token: 'someone-else' })).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(await lock.extend(lease)).toBe(true);
    expect(await redis.pttl(lease.key)).toBeGreaterThan(200);
  });

  it('expires when its holder dies, and the old holder can then release nothing', async () => {
    const lock = new DistributedLock(redis, 'clustering:lock:test', 150);
    const dead = (await lock.tryAcquire())!;
    const next = await lock.acquire(2000);
    expect(next).toBeDefined();
    expect(next!.token).not.toBe(dead.token);
    expect(await lock.release(dead)).toBe(false);
    expect(await redis.get(dead.key)).toBe(next!.token);
  });
});
