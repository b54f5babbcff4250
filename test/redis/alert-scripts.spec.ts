import Redis from 'ioredis';
import { Keyspace } from '../../src/redis/keyspace';
import { runScript } from '../../src/redis/lua-scripts';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const keys = Keyspace.flat().service;
const enqueue = (redis: Redis, id: string, body: string, now: number) =>
  runScript(
    redis,
    'enqueueAlert',
    [keys.alertsSent, keys.alertQueue, keys.alertPayloads],
    [id, body, now, new Date(now).toISOString()],
  );
const claim = (redis: Redis, now: number, leaseMs: number, max = 10) =>
  runScript(redis, 'claimAlerts', [keys.alertQueue, keys.alertPayloads], [now, leaseMs, max]);

describe('enqueue-alert.lua and claim-alerts.lua', () => {
  let redis: Redis;
  beforeEach(async () => {
    redis = await openTestRedis(1);
  });
  afterEach(async () => closeTestRedis(redis));

  it('queues an alert once, however often it is detected, even after it was delivered', async () => {
    await expect(enqueue(redis, 'c1:size:10', '{"a":1}', 1000)).resolves.toBe(1);
    await expect(enqueue(redis, 'c1:size:10', '{"a":2}', 2000)).resolves.toBe(0);
    expect(await redis.zrange(keys.alertQueue, 0, -1, 'WITHSCORES')).toEqual([
      'c1:size:10',
      '1000',
    ]);
    expect(JSON.parse((await redis.hget(keys.alertPayloads, 'c1:size:10'))!)).toEqual({
      body: '{"a":1}',
      attempts: 0,
    });
    // Delivered: queue and payload are gone, the record that it was sent stays.
    await redis.zrem(keys.alertQueue, 'c1:size:10');
    await redis.hdel(keys.alertPayloads, 'c1:size:10');
    await expect(enqueue(redis, 'c1:size:10', '{"a":3}', 3000)).resolves.toBe(0);
    expect(await redis.zcard(keys.alertQueue)).toBe(0);
  });

  it('claims only due alerts and holds each for the lease, then lets it be claimed again', async () => {
    await enqueue(redis, 'due', '{"d":1}', 1000);
    await enqueue(redis, 'later', '{"l":1}', 5000);

    const [id, payload] = (await claim(redis, 2000, 10_000)) as string[];
    expect(id).toBe('due');
    expect(JSON.parse(payload)).toEqual({ body: '{"d":1}', attempts: 0 });
    expect(await redis.zscore(keys.alertQueue, 'due')).toBe('12000');
    // Held: another replica gets nothing until the lease lapses (or the later one is due).
    await expect(claim(redis, 3000, 10_000)).resolves.toEqual([]);
    const again = (await claim(redis, 12_000, 10_000)) as string[];
    expect(again.filter((_, i) => i % 2 === 0)).toEqual(['later', 'due']);
  });

  it('drops a queue entry whose payload is gone and respects the batch size', async () => {
    for (const id of ['a', 'b', 'c']) await enqueue(redis, id, '{}', 1000);
    await redis.hdel(keys.alertPayloads, 'a');
    const claimed = (await claim(redis, 2000, 10_000, 2)) as string[];
    expect(claimed.filter((_, i) => i % 2 === 0)).toEqual(['b']);
    expect(await redis.zscore(keys.alertQueue, 'a')).toBeNull();
    expect(await redis.zscore(keys.alertQueue, 'c')).toBe('1000');
  });
});
