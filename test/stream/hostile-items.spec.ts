import { Keyspace } from '../../src/redis/keyspace';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { sleep } from '../../scripts/lib/redis-server';
import { ServiceProcess, startService } from '../../scripts/lib/service-process';
import { contractViolations } from '../support/contract-invariants';
import { closeTestRedis, openTestRedis, redisUrl, waitFor } from '../support/test-redis';

const DB = 10;
/** What the contract allows a hostile item to cost the items after it, and the ECS probe. */
const MAX_DELAY_MS = 3000;
const MAX_LIVE_MS = 1000;
const ORDINARY_PER_ROUND = 10;

/** One hostile item, written the way a careless producer would: straight into Redis. */
interface HostileItem {
  name: string;
  /** Hash fields; absent for a missing hash. */
  fields?: Record<string, string>;
  /** Writes the key as another type instead of a hash. */
  wrongType?: boolean;
  /** Where the item must end: clustered, parked, or dropped from the waiting set (no hash). */
  ends: 'clustered' | 'parked' | 'forgotten';
}

const HOSTILE: HostileItem[] = [
  {
    name: 'cubic body (a markdown table rule: 4,001 dashes, then a letter)',
    fields: { source: 'github', title: 'Table', body: `| a | b |\n${'-'.repeat(4001)}a` },
    ends: 'clustered',
  },
  {
    name: '2 MB body',
    fields: { source: 'manual', title: 'Paste', body: 'crash log line '.repeat(140_000) },
    ends: 'clustered',
  },
  {
    name: 'emoji only',
    fields: { source: 'reddit', title: '👍👍👍', body: '' },
    ends: 'clustered',
  },
  {
    name: 'digits only',
    fields: { source: 'manual', title: '', body: '10/10' },
    ends: 'clustered',
  },
  {
    name: 'metadata that is not JSON',
    fields: { source: 'sentry', title: 'TypeError in checkout', body: '', metadata: '{"not json' },
    ends: 'clustered',
  },
  {
    name: 'metadata of the wrong shapes',
    fields: {
      source: 'sentry',
      title: 'Crash',
      body: 'x',
      metadata: JSON.stringify({
        exception: { values: 'none' },
        frames: { 0: 1 },
        labels: 42,
        subreddit: ['a'],
        metadata: [null],
      }),
    },
    ends: 'clustered',
  },
  {
    name: 'a million-dot URL',
    fields: { source: 'github', title: 'Link', body: `see http://a${'.'.repeat(1_000_000)}x ok` },
    ends: 'clustered',
  },
  {
    name: '200 kB source',
    fields: { source: `r${' '.repeat(100_000)}x${' '.repeat(100_000)}`, title: 'Odd source' },
    ends: 'clustered',
  },
  {
    name: 'NUL bytes',
    fields: { source: 'manual', title: 'Login\u0000fails', body: '\u0000'.repeat(10_000) },
    ends: 'clustered',
  },
  { name: 'missing hash', ends: 'forgotten' },
  { name: 'key of the wrong type', wrongType: true, ends: 'parked' },
];

const TOPICS = [
  'password reset fails',
  'pdf export is blank',
  'dark mode request',
  'sync lost edits',
];

/** Polls `/health/live` every 100 ms and keeps the slowest answer (a timeout counts as 5 s). */
class LivenessPoller {
  worstMs = 0;
  failures = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(url: string) {
    this.done = this.poll(url);
  }

  private async poll(url: string): Promise<void> {
    while (this.running) {
      const started = performance.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
        await response.arrayBuffer();
        if (!response.ok) this.failures++;
      } catch {
        this.failures++;
      }
      this.worstMs = Math.max(this.worstMs, performance.now() - started);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

describe('hostile items (a real service process)', () => {
  let redis: Redis;
  let service: ServiceProcess | undefined;
  beforeEach(async () => (redis = await openTestRedis(DB)));
  afterEach(async () => {
    await service?.stop();
    await closeTestRedis(redis);
  });

  it('none delays the ten ordinary items after it by over 3 s, and /health/live answers within 1 s', async () => {
    service = await startService({
      redisUrl: redisUrl(DB),
      env: { SWEEP_ENABLED: 'false', STREAM_TRIM_INTERVAL_MS: '0' },
      readyTimeoutMs: 60_000,
    });
    const writer = new FeedbackWriter(redis, Keyspace.flat());
    const poller = new LivenessPoller(`${service.baseUrl}/health/live`);
    const delays: Record<string, number> = {};
    const hostileIds: string[] = [];
    try {
      for (const [round, hostile] of HOSTILE.entries()) {
        const id = `hostile-${round}`;
        hostileIds.push(id);
        if (hostile.wrongType) await redis.rpush(`feedback:${id}`, 'not', 'a', 'hash');
        if (hostile.fields) {
          await redis.hset(`feedback:${id}`, {
            id,
            created_at: new Date().toISOString(),
            clustered: 'false',
            ...hostile.fields,
          });
        }
        await redis.sadd('feedback:unclustered', id);
        await redis.xadd('feedback:events', '*', 'type', 'feedback.created', 'id', id);

        const written: Array<{ id: string; at: number }> = [];
        for (let i = 0; i < ORDINARY_PER_ROUND; i++) {
          const at = Date.now();
          const topic = TOPICS[i % TOPICS.length];
          const { id: ordinary } = await writer.write({
            source: 'manual',
            title: `${topic}, report ${round}-${i}`,
          });
          written.push({ id: ordinary, at });
        }
        await waitFor(
          async () => {
            const flags = await Promise.all(
              written.map((w) => redis.hget(`feedback:${w.id}`, 'clustered')),
            );
            return flags.every((flag) => flag === 'true');
          },
          60_000,
          `the ordinary items after "${hostile.name}"`,
        );
        const clusteredAt = await Promise.all(
          written.map((w) => redis.hget(`feedback:${w.id}`, 'clustered_at')),
        );
        delays[hostile.name] = Math.max(
          ...written.map((w, i) => Date.parse(clusteredAt[i] ?? '') - w.at),
        );
      }
      await waitFor(
        async () => (await redis.xpending('feedback:events', 'clustering'))[0] === 0,
        30_000,
        'every event acknowledged',
      );
    } finally {
      await poller.stop();
    }

    const worstDelay = Math.max(...Object.values(delays));
    process.stdout.write(
      `hostile items: worst delay of the ordinary items ${worstDelay} ms, ` +
        `worst /health/live ${poller.worstMs.toFixed(0)} ms\n` +
        Object.entries(delays)
          .map(([name, ms]) => `  ${name}: ${ms} ms\n`)
          .join(''),
    );
    expect(Object.entries(delays).filter(([, ms]) => !(ms <= MAX_DELAY_MS))).toEqual([]);
    expect(poller.worstMs).toBeLessThanOrEqual(MAX_LIVE_MS);
    expect(poller.failures).toBe(0);

    // Nothing lost: each hostile item ended where it belongs, the rest of the data is sound.
    const waiting = new Set(await redis.smembers('feedback:unclustered'));
    const parked = await redis.hkeys('clustering:parked');
    HOSTILE.forEach((hostile, i) => {
      const id = hostileIds[i];
      const where = waiting.has(id) ? (parked.includes(id) ? 'parked' : 'waiting') : 'gone';
      const expected = hostile.ends === 'parked' ? 'parked' : 'gone';
      expect([hostile.name, where]).toEqual([hostile.name, expected]);
    });
    for (const [i, hostile] of HOSTILE.entries()) {
      if (hostile.ends !== 'clustered') continue;
      expect([hostile.name, await redis.hget(`feedback:${hostileIds[i]}`, 'clustered')]).toEqual([
        hostile.name,
        'true',
      ]);
    }
    expect(await redis.xlen('clustering:dead-letters')).toBe(0);
    expect(await contractViolations(redis)).toEqual([]);
  });
});
