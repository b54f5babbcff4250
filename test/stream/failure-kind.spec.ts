import { BrokenCircuitError, TaskCancelledError } from 'cockatiel';
import Redis from 'ioredis';
import { InvalidResponseError, ProviderError } from '../../src/providers/resilient-call';
import { LockLostError, LockTimeoutError } from '../../src/redis/distributed-lock';
import { transientBackoffMs } from '../../src/stream/backoff';
import { isTransientFailure } from '../../src/stream/failure-kind';
import { openTestRedis, closeTestRedis } from '../support/test-redis';

describe('isTransientFailure: outages versus failures an item may cause', () => {
  it('takes real Redis refusals and unreachable servers for outages, a wrong type for not', async () => {
    const redis = await openTestRedis(2);
    const unreachable = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    unreachable.on('error', () => {});
    try {
      await redis.set('k', 'v');
      const wrongType = await redis.hget('k', 'f').catch((e: unknown) => e);
      const noGroup = await redis
        .xreadgroup('GROUP', 'nope', 'c', 'STREAMS', 'nostream', '>')
        .catch((e: unknown) => e);
      const refused = await unreachable.get('k').catch((e: unknown) => e);

      expect(isTransientFailure(noGroup)).toBe(true);
      expect(isTransientFailure(refused)).toBe(true);
      expect(isTransientFailure(wrongType)).toBe(false);
    } finally {
      unreachable.disconnect();
      await closeTestRedis(redis);
    }
  });

  it('sorts the service’s and the providers’ errors', () => {
    const outages = [
      new LockTimeoutError('timed out waiting for the assignment lock'),
      new LockLostError('the assignment lock expired'),
      new ProviderError('HTTP 503', true),
      new BrokenCircuitError(),
      new TaskCancelledError(),
      new Error('OOM command not allowed when used memory > maxmemory'),
      new Error('CONFLICT cluster 1 is not live'),
      new Error('job failed', { cause: new ProviderError('HTTP 429', true) }),
    ];
    const notOutages = [
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      new RangeError('Maximum call stack size exceeded'),
      new InvalidResponseError('embedding has 3 dimensions, expected 768'),
      new ProviderError('HTTP 400: bad request', false),
      'a string',
      undefined,
    ];
    for (const error of outages) expect([error, isTransientFailure(error)]).toEqual([error, true]);
    for (const error of notOutages)
      expect([error, isTransientFailure(error)]).toEqual([error, false]);
  });

  it('backs off exponentially, capped at 30 s, jittered over the upper half', () => {
    expect(transientBackoffMs(1, () => 0)).toBe(125);
    expect(transientBackoffMs(1, () => 1)).toBe(250);
    expect(transientBackoffMs(4, () => 0.5)).toBe(1500);
    expect(transientBackoffMs(30, () => 1)).toBe(30_000);
    expect(transientBackoffMs(30, () => 0)).toBe(15_000);
  });
});
