import { Keyspace } from '../../src/redis/keyspace';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { emptyStats } from '../../src/pipeline/batch-stats';
import { EmbedRetrySchedule } from '../../src/pipeline/embed/embed-retry-schedule';
import { ProviderError, ResilientCaller } from '../../src/providers/resilient-call';
import { NO_PROVIDER_METRICS } from '../../src/providers/provider-metrics';
import { LockTimeoutError } from '../../src/redis/distributed-lock';
import { FeedbackKeys, ServiceKeys } from '../../src/redis/keys';
import { DeadLetters } from '../../src/stream/dead-letters';
import { EventStream } from '../../src/stream/event-stream';
import { ItemFailureCounts } from '../../src/stream/item-failures';
import { BatchProcessor, StreamConsumer } from '../../src/stream/stream-consumer';
import { closeTestRedis, openTestRedis, redisUrl, waitFor } from '../support/test-redis';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 2;
const GROUP = 'clustering';

/**
 * A stand-in for the pipeline that records each id it finished, in Redis (so a Redis
 * outage hits it as it hits the pipeline), and fails as `fault` says.
 */
class RecordingProcessor implements BatchProcessor {
  readonly calls: string[][] = [];
  fault: (ids: readonly string[]) => Promise<void> = async () => {};

  constructor(private readonly redis: Redis) {}

  async process(ids: readonly string[]) {
    this.calls.push([...ids]);
    await this.fault(ids);
    await this.redis.sadd('test:processed', ...ids);
    return { ...emptyStats(), clustered_count: ids.length };
  }
}

describe('stream failure handling (StreamConsumer on the real Redis)', () => {
  let redis: Redis;
  let blocking: Redis;
  let consumer: StreamConsumer | undefined;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(async () => {
    redis = await openTestRedis(DB);
    blocking = new Redis(redisUrl(DB));
  });

  afterEach(async () => {
    await consumer?.stop(5000);
    consumer = undefined;
    blocking.disconnect();
    await closeTestRedis(redis);
  });

  function startConsumer(processor: BatchProcessor, maxDeliveries = 2): Promise<void> {
    const stream = new EventStream(redis, blocking, FeedbackKeys.events, GROUP, 'c1');
    consumer = new StreamConsumer(
      stream,
      processor,
      new DeadLetters(redis),
      new EmbedRetrySchedule(redis, Keyspace.flat()),
      new ItemFailureCounts(redis),
      { batchMaxItems: 50, batchMaxWaitMs: 20, claimIdleMs: 1000, maxDeliveries },
    );
    return consumer.start();
  }

  async function announce(ids: string[]): Promise<void> {
    for (const id of ids)
      await redis.xadd(FeedbackKeys.events, '*', 'type', 'feedback.created', 'id', id);
  }

  const processed = () => redis.smembers('test:processed');
  const ids = (n: number, prefix = 'item') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

  it('keeps a batch pending through an outage longer than MAX_DELIVERIES retries, counting nothing', async () => {
    const processor = new RecordingProcessor(redis);
    // A provider behind a real circuit breaker: down, then the circuit opens.
    const provider = new ResilientCaller(
      'test-provider',
      {
        timeoutMs: 1000,
        maxRetries: 0,
        backoffBaseMs: 10,
        backoffMaxMs: 10,
        breakerThreshold: 2,
        breakerHalfOpenMs: 60_000,
      },
      NO_PROVIDER_METRICS,
    );
    const outages: Array<() => Promise<void>> = [
      () => Promise.reject(new LockTimeoutError('timed out waiting for the assignment lock')),
      ...Array.from(
        { length: 3 },
        () => () =>
          provider.run('embed', () => Promise.reject(new ProviderError('HTTP 503', true))),
      ),
    ];
    const attemptsAt: number[] = [];
    processor.fault = async () => {
      attemptsAt.push(Date.now());
      const outage = outages.shift();
      if (outage) await outage();
    };
    await startConsumer(processor, 2);
    const items = ids(5);
    await announce(items);

    await waitFor(async () => (await processed()).length === items.length, 20_000, 'recovery');

    expect((await processed()).sort()).toEqual(items.sort());
    expect(await redis.xlen(ServiceKeys.deadLetters)).toBe(0);
    // Four outages (a lock timeout, two provider errors, an open circuit), then success: five
    // attempts of one batch, held in hand: never re-read, so XPENDING counted one delivery.
    expect(processor.calls).toHaveLength(5);
    for (const call of processor.calls) expect(call.sort()).toEqual(items.sort());
    expect(await redis.exists(ServiceKeys.streamItemFailures)).toBe(0);
    // Backoff: the pauses grow.
    const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]);
    expect(gaps[3]).toBeGreaterThan(gaps[0]);
    await waitFor(async () => (await redis.xpending(FeedbackKeys.events, GROUP))[0] === 0);
  }, 30_000);

  it('rides out a real Redis outage (writes refused: OOM) with no dead letters', async () => {
    const processor = new RecordingProcessor(redis);
    await startConsumer(processor, 1);
    const admin = new Redis(redisUrl(DB));
    const [, maxmemory] = (await admin.config('GET', 'maxmemory')) as [string, string];
    try {
      await admin.config('SET', 'maxmemory', '1');
      // Producers write while Redis refuses: the events are there, the writes fail.
      await admin.config('SET', 'maxmemory', maxmemory);
      const items = ids(20);
      await announce(items);
      await admin.config('SET', 'maxmemory', '1');
      await waitFor(async () => processor.calls.length >= 3, 10_000, 'failed attempts');
    } finally {
      await admin.config('SET', 'maxmemory', maxmemory);
      admin.disconnect();
    }
    await waitFor(async () => (await processed()).length === 20, 40_000, 'recovery');
    expect(await redis.xlen(ServiceKeys.deadLetters)).toBe(0);
    expect(processor.calls.length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('dead-letters a poisonous item after MAX_DELIVERIES failures of its own; the rest go through', async () => {
    const processor = new RecordingProcessor(redis);
    let outagesLeft = 4;
    processor.fault = async (batch) => {
      // An outage first (not counted), then the item that breaks every batch it is in.
      if (outagesLeft-- > 0) throw new ProviderError('HTTP 503', true);
      if (batch.includes('poison'))
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
    };
    await startConsumer(processor, 3);
    const good = ids(6);
    await announce([...good.slice(0, 3), 'poison', ...good.slice(3)]);

    await waitFor(
      async () => (await redis.xlen(ServiceKeys.deadLetters)) === 1,
      20_000,
      'dead letter',
    );
    await waitFor(async () => (await processed()).length === good.length);

    expect((await processed()).sort()).toEqual(good.sort());
    const [[, fields]] = await redis.xrange(ServiceKeys.deadLetters, '-', '+');
    const field = (name: string) => fields[fields.indexOf(name) + 1];
    expect(field('feedback_id')).toBe('poison');
    expect(field('deliveries')).toBe('3');
    expect(field('reason')).toMatch(/^failed 3 times on its own: TypeError: Cannot read/);
    // Exactly three attempts of the poison alone, after the batch that split.
    expect(processor.calls.filter((c) => c.length === 1 && c[0] === 'poison')).toHaveLength(3);
    expect(await redis.exists(ServiceKeys.streamItemFailures)).toBe(0);
    await waitFor(async () => (await redis.xpending(FeedbackKeys.events, GROUP))[0] === 0);
  }, 30_000);

  it('counts a crash during an attempt alone, and isolates an entry lost twice', async () => {
    // An earlier holder died while the entry was alone in hand (its attempt counted), and
    // another entry was lost by two holders: both are taken alone; the first needs only one
    // more failure to reach MAX_DELIVERIES = 2.
    await redis.xgroup('CREATE', FeedbackKeys.events, GROUP, '0', 'MKSTREAM');
    await announce(['crasher', 'lost-twice', 'fine']);
    const read = (await redis.xreadgroup(
      'GROUP',
      GROUP,
      'c1',
      'COUNT',
      3,
      'STREAMS',
      FeedbackKeys.events,
      '>',
    )) as [string, [string, string[]][]][];
    const [crasherEntry, lostEntry] = read[0][1].map(([id]) => id);
    await redis.hset(ServiceKeys.streamItemFailures, crasherEntry, 1);
    await redis.xclaim(FeedbackKeys.events, GROUP, 'c1', 0, lostEntry, 'RETRYCOUNT', 2);
    const processor = new RecordingProcessor(redis);
    processor.fault = async (batch) => {
      if (batch.includes('crasher')) throw new RangeError('Maximum call stack size exceeded');
    };

    await startConsumer(processor, 2);

    await waitFor(async () => (await processed()).length === 2, 10_000, 'the others');
    await waitFor(
      async () => (await redis.xlen(ServiceKeys.deadLetters)) === 1,
      10_000,
      'dead letter',
    );
    expect(processor.calls.filter((c) => c.includes('crasher'))).toEqual([['crasher']]);
    expect(processor.calls).toContainEqual(['lost-twice']);
  });
});
