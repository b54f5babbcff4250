import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { AssignmentLock } from '../../src/clusters/assignment-lock';
import { DistributedLock, LockLostError, LockTimeoutError } from '../../src/redis/distributed-lock';
import { ServiceKeys } from '../../src/redis/keys';
import { closeTestRedis, openTestRedis, redisUrl } from '../support/test-redis';

const KEY = 'clustering:lock:test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DistributedLock: heartbeat, loss, fencing and run', () => {
  let redis: Redis;
  /** Another replica's connection. */
  let other: Redis;
  beforeEach(async () => {
    redis = await openTestRedis(1);
    other = new Redis(redisUrl(1));
  });
  afterEach(async () => {
    other.disconnect();
    await closeTestRedis(redis);
  });

  it('keeps a lease held by its heartbeat long past the lock’s expiry', async () => {
    const lock = new DistributedLock(redis, KEY, 300);
    const lease = lock.keep((await lock.tryAcquire())!);
    await sleep(1200);
    expect(lease.lost).toBe(false);
    expect(await redis.get(KEY)).toBe(lease.token);
    expect(await new DistributedLock(other, KEY, 300).tryAcquire()).toBeUndefined();
    expect(await lease.release()).toBe(true);
    expect(await redis.exists(KEY)).toBe(0);
  });

  it('reports the loss when another token takes the lock, and leaves the new holder’s lock alone', async () => {
    const lock = new DistributedLock(redis, KEY, 300);
    const lease = lock.keep((await lock.tryAcquire())!);
    // The key vanishes (say, a failover to a replica that had not seen it) and another takes it.
    await redis.del(KEY);
    const rival = (await new DistributedLock(other, KEY, 5000).tryAcquire())!;
    await sleep(300);
    expect(lease.lost).toBe(true);
    expect(() => lease.assertHeld()).toThrow(LockLostError);
    expect(await lease.release()).toBe(false);
    expect(await redis.get(KEY)).toBe(rival.token);
  });

  it('fences a holder whose heartbeat stalled: its lease can neither extend nor release the next holder’s lock', async () => {
    const lock = new DistributedLock(redis, KEY, 200);
    const rival = new DistributedLock(other, KEY, 5000);
    let next: { token: string } | undefined;
    await lock.run(
      async (lease) => {
        // A blocked event loop: no heartbeat can run, so the lock expires under its holder.
        const until = Date.now() + 400;
        while (Date.now() < until);
        next = await rival.tryAcquire();
        expect(next).toBeDefined();
        expect(next!.token).not.toBe(lease.token);
        expect(await lock.extend(lease)).toBe(false);
      },
      { waitMs: 1000 },
    );
    expect(await redis.get(KEY)).toBe(next!.token);
  });

  it('run holds the lock for its work only, and frees it when the work throws', async () => {
    const lock = new DistributedLock(redis, KEY, 5000);
    const seen = await lock.run(async (lease) => redis.get(lease.key), { waitMs: 1000 });
    expect(seen).toMatch(/^[0-9a-f-]{36}$/);
    expect(await redis.exists(KEY)).toBe(0);
    await expect(
      lock.run(() => Promise.reject(new Error('work failed')), { waitMs: 1000 }),
    ).rejects.toThrow('work failed');
    expect(await redis.exists(KEY)).toBe(0);
  });

  it('run waits for the holder, and gives up with LockTimeoutError without running the work', async () => {
    const lock = new DistributedLock(redis, KEY, 5000);
    const held = (await new DistributedLock(other, KEY, 250).tryAcquire())!;
    // The holder's lock expires after 250 ms: a wait of 2 s gets it.
    expect(await lock.run(async (lease) => lease.token !== held.token, { waitMs: 2000 })).toBe(
      true,
    );
    await new DistributedLock(other, KEY, 5000).tryAcquire();
    let ran = false;
    const started = Date.now();
    await expect(lock.run(async () => (ran = true), { waitMs: 200 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(ran).toBe(false);
  });

  it('runIfFree runs the work only when nobody holds the lock', async () => {
    const lock = new DistributedLock(redis, KEY, 5000);
    expect(await lock.runIfFree(async () => 'done')).toEqual({ result: 'done' });
    expect(await lock.isHeld()).toBe(false);
    await new DistributedLock(other, KEY, 5000).tryAcquire();
    let ran = false;
    expect(await lock.runIfFree(async () => (ran = true))).toBeUndefined();
    expect(ran).toBe(false);
    expect(await lock.isHeld()).toBe(true);
  });
});

describe('AssignmentLock (the pipeline’s and the sweeps’ one lock)', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(1)));
  afterEach(async () => closeTestRedis(redis));

  it('is kept by its heartbeat while a holder works, and freed after', async () => {
    const lock = new AssignmentLock(redis, Keyspace.flat());
    await lock.run(async (lease) => {
      // A third of the 15 s expiry on, the heartbeat has renewed it (else ~9 s would be left).
      await sleep(6000);
      expect(await redis.get(ServiceKeys.assignLock)).toBe(lease.token);
      expect(await redis.pttl(ServiceKeys.assignLock)).toBeGreaterThan(12_000);
    });
    expect(await redis.exists(ServiceKeys.assignLock)).toBe(0);
  }, 15_000);
});
