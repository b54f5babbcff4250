import Redis from 'ioredis';
import { NewFeedback } from '../../src/feedback/feedback-writer';
import { contractViolations } from '../support/contract-invariants';
import { startService } from '../support/service-harness';
import { useServiceFixture } from '../support/service-fixture';
import { waitFor } from '../support/test-redis';

const DB = 3;

/** Three themes a product team would want as three clusters, as users report them. */
const THEMES: Record<string, string[]> = {
  login: [
    'Cannot log in after resetting my password',
    'Can not log in after I reset my password',
    'cannot log in since resetting the password',
    'Still cannot log in after password reset',
  ],
  export: [
    'Export to PDF produces a blank file',
    'PDF export produces a blank file',
    'Export to PDF gives a blank PDF file',
    'exporting to pdf produces blank file',
  ],
  darkMode: [
    'Please add a dark mode to the app',
    'Please add dark mode to the app',
    'Add a dark mode to the app please',
    'please add a dark mode option to the app',
  ],
};

function themedItems(): Array<NewFeedback & { theme: string }> {
  return Object.entries(THEMES).flatMap(([theme, texts]) =>
    texts.map((title, i) => ({ theme, source: i % 2 ? 'reddit' : 'manual', title, body: '' })),
  );
}

async function waitUntilNothingWaits(redis: Redis, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => (await redis.scard('feedback:unclustered')) === 0,
    timeoutMs,
    'unclustered to drain',
  );
}

/** Every entry of the stream delivered to the group and acknowledged. */
async function waitForStreamConsumed(redis: Redis): Promise<void> {
  await waitFor(
    async () => {
      const [last] = (await redis.xrevrange('feedback:events', '+', '-', 'COUNT', 1))[0] ?? [];
      const groups = (await redis.xinfo('GROUPS', 'feedback:events')) as unknown[][];
      const group = groups.find((g) => g[1] === 'clustering') ?? [];
      const delivered = group[group.indexOf('last-delivered-id') + 1];
      const pending = (await redis.xpending('feedback:events', 'clustering'))[0];
      return delivered === last && pending === 0;
    },
    15_000,
    'every event consumed and acknowledged',
  );
}

/** Adds a `feedback.created` event with these further fields, as a producer would. */
async function emitCreated(redis: Redis, ...fields: Array<string | number>): Promise<void> {
  await redis.xadd('feedback:events', '*', 'type', 'feedback.created', ...fields);
}

async function clusterOf(redis: Redis, id: string): Promise<string | null> {
  return redis.hget(`feedback:${id}`, 'cluster_id');
}

describe('stream to clusters (real Redis, whole service)', () => {
  const fixture = useServiceFixture(DB, startService);

  it('clusters a stream so that every item satisfies the contract and themes land together', async () => {
    await fixture.start();
    const items = themedItems();
    const ids: Record<string, string[]> = {};
    for (const item of items) {
      const { id } = await fixture.writer.write(item);
      (ids[item.theme] ??= []).push(id);
    }

    await waitUntilNothingWaits(fixture.redis);

    expect(await contractViolations(fixture.redis)).toEqual([]);
    for (const themeIds of Object.values(ids)) {
      const clusters = new Set(
        await Promise.all(themeIds.map((id) => clusterOf(fixture.redis, id))),
      );
      expect(clusters.size).toBe(1);
    }
    expect(await fixture.redis.scard('clusters:all')).toBe(3);
    const anyCluster = (await fixture.redis.smembers('clusters:all'))[0];
    const hash = await fixture.redis.hgetall(`cluster:${anyCluster}`);
    expect(hash.status).toBe('new');
    expect(hash.title.length).toBeGreaterThan(0);
    expect(hash.embedding_model).toMatch(/^local-/);
    expect(await fixture.redis.xpending('feedback:events', 'clustering')).toEqual([
      0,
      null,
      null,
      null,
    ]);
  });

  it('changes nothing when a persisted batch is delivered again', async () => {
    await fixture.start();
    const written = [];
    for (const item of themedItems()) written.push(await fixture.writer.write(item));
    await waitUntilNothingWaits(fixture.redis);
    const snapshot = async () => {
      const clusters = (await fixture.redis.smembers('clusters:all')).sort();
      const sizes = await Promise.all(
        clusters.map((c) => fixture.redis.hget(`cluster:${c}`, 'size')),
      );
      return { clusters, sizes };
    };
    const before = await snapshot();

    // Replay every event, as a producer retry or a stream replay would.
    for (const { id } of written) await emitCreated(fixture.redis, 'id', id, 'ts', Date.now());
    await waitForStreamConsumed(fixture.redis);

    expect(await snapshot()).toEqual(before);
    expect(await contractViolations(fixture.redis)).toEqual([]);
  });

  it('finishes a batch a dead consumer left pending, without loss or doubles', async () => {
    // A consumer reads a batch and dies before acknowledging it.
    await fixture.redis.xgroup('CREATE', 'feedback:events', 'clustering', '0', 'MKSTREAM');
    const ids = [];
    for (const item of themedItems()) ids.push((await fixture.writer.write(item)).id);
    await fixture.redis.xreadgroup(
      'GROUP',
      'clustering',
      'dead-consumer',
      'COUNT',
      100,
      'STREAMS',
      'feedback:events',
      '>',
    );
    expect((await fixture.redis.xpending('feedback:events', 'clustering'))[0]).toBe(ids.length);

    await fixture.start({ CLAIM_IDLE_MS: '1000' });
    await waitUntilNothingWaits(fixture.redis);
    await waitForStreamConsumed(fixture.redis);

    expect(await contractViolations(fixture.redis)).toEqual([]);
    const total = await Promise.all(
      (await fixture.redis.smembers('clusters:all')).map((c) =>
        fixture.redis.scard(`cluster:items:${c}`),
      ),
    );
    expect(total.reduce((a, b) => a + b, 0)).toBe(ids.length);
  });

  it('two instances on one stream of similar items open one cluster per theme', async () => {
    await fixture.start({ CONSUMER_NAME: 'replica-a', BATCH_MAX_ITEMS: '3' });
    await fixture.start({ CONSUMER_NAME: 'replica-b', BATCH_MAX_ITEMS: '3' });
    // Many copies of each theme's first wording: one replica alone would open exactly 3 clusters.
    const items: NewFeedback[] = [];
    for (let round = 0; round < 20; round++) {
      for (const texts of Object.values(THEMES)) items.push({ source: 'manual', title: texts[0] });
    }
    await fixture.writer.writeMany(items);

    await waitUntilNothingWaits(fixture.redis);

    expect(await fixture.redis.scard('clusters:all')).toBe(3);
    expect(await contractViolations(fixture.redis)).toEqual([]);
    const consumers = (await fixture.redis.xinfo(
      'CONSUMERS',
      'feedback:events',
      'clustering',
    )) as unknown[][];
    expect(consumers.map((c) => c[1]).sort()).toEqual(['replica-a', 'replica-b']);
  });

  it('parks or skips malformed events and items with a reason and clusters the rest', async () => {
    await fixture.start({ MAX_TEXT_CHARS: '2000' });
    const good = [];
    for (const item of themedItems()) good.push((await fixture.writer.write(item)).id);
    // An event without an id, one with a garbage id, one for a hash that does not exist.
    await emitCreated(fixture.redis);
    await emitCreated(fixture.redis, 'id', 'not a valid id!');
    await fixture.redis.sadd('feedback:unclustered', 'ghost');
    await emitCreated(fixture.redis, 'id', 'ghost');
    // An item with no text, one with unparsable metadata, one with a 2 MB body, one in Japanese.
    const raw = async (id: string, fields: Record<string, string>) => {
      await fixture.redis.hset(`feedback:${id}`, {
        id,
        source: 'manual',
        created_at: new Date().toISOString(),
        clustered: 'false',
        ...fields,
      });
      await fixture.redis.sadd('feedback:unclustered', id);
      await emitCreated(fixture.redis, 'id', id);
    };
    await raw('empty', { title: '', body: '   ' });
    await raw('bad-metadata', { title: 'Export to PDF is blank', body: '', metadata: '{not json' });
    await raw('huge', { title: 'Huge paste', body: 'crash log line '.repeat(140_000) });
    await raw('japanese', { title: 'アプリがログイン後にクラッシュします', body: '' });

    await waitForStreamConsumed(fixture.redis);

    // Only the item without text is left waiting, parked with its reason (never retried forever).
    expect(await fixture.redis.smembers('feedback:unclustered')).toEqual(['empty']);
    expect(JSON.parse((await fixture.redis.hget('clustering:parked', 'empty'))!)).toMatchObject({
      reason: expect.any(String),
    });
    expect(await fixture.redis.zcard('clustering:embed-retry-after')).toBe(0);
    const dead = await fixture.redis.xrange('clustering:dead-letters', '-', '+');
    const reasons = dead.map(([, fields]) => fields[fields.indexOf('reason') + 1]);
    expect(reasons.sort()).toEqual([
      'event has no id field',
      'event id is not a valid feedback id',
    ]);
    for (const id of [...good, 'bad-metadata', 'huge', 'japanese']) {
      expect(await fixture.redis.hget(`feedback:${id}`, 'clustered')).toBe('true');
    }
    expect(await contractViolations(fixture.redis)).toEqual([]);
  });

  it('does not dead-letter an entry only because it was delivered often: it is tried alone', async () => {
    await fixture.redis.xgroup('CREATE', 'feedback:events', 'clustering', '0', 'MKSTREAM');
    const { id: stuck } = await fixture.writer.write({
      source: 'manual',
      title: 'Export to PDF is blank',
    });
    // Consumers that died again and again while holding this entry: delivered 10 times.
    const [[, [[entryId]]]] = (await fixture.redis.xreadgroup(
      'GROUP',
      'clustering',
      'dying-consumer',
      'COUNT',
      1,
      'STREAMS',
      'feedback:events',
      '>',
    )) as [string, [string, string[]][]][];
    await fixture.redis.xclaim(
      'feedback:events',
      'clustering',
      'dying-consumer',
      0,
      entryId,
      'RETRYCOUNT',
      10,
    );
    const good = [];
    for (const item of themedItems()) good.push((await fixture.writer.write(item)).id);

    await fixture.start({ MAX_DELIVERIES: '5', CLAIM_IDLE_MS: '1000' });
    await waitForStreamConsumed(fixture.redis);

    // Deliveries are not failures of the item's own (kills, outages): it is clustered.
    expect(await fixture.redis.xlen('clustering:dead-letters')).toBe(0);
    for (const id of [stuck, ...good])
      expect(await fixture.redis.hget(`feedback:${id}`, 'clustered')).toBe('true');
    expect(await fixture.redis.exists('clustering:stream:item-failures')).toBe(0);
    expect(await contractViolations(fixture.redis)).toEqual([]);
  });

  it('parks an item whose key is not a hash instead of failing its batch', async () => {
    await fixture.start();
    await fixture.redis.set('feedback:wrong-type', 'not a hash');
    await fixture.redis.sadd('feedback:unclustered', 'wrong-type');
    await emitCreated(fixture.redis, 'id', 'wrong-type');
    const good = [];
    for (const item of themedItems()) good.push((await fixture.writer.write(item)).id);

    await waitForStreamConsumed(fixture.redis);

    expect(
      JSON.parse((await fixture.redis.hget('clustering:parked', 'wrong-type'))!),
    ).toMatchObject({
      reason: 'feedback key is not a hash',
    });
    expect(await fixture.redis.xlen('clustering:dead-letters')).toBe(0);
    for (const id of good)
      expect(await fixture.redis.hget(`feedback:${id}`, 'clustered')).toBe('true');
  });

  it('clusters items of emoji, digits or punctuation alone; parks only those with nothing visible', async () => {
    await fixture.start();
    const symbolic = ['👍👍👍', '👍', '🔥🔥', '❤️❤️', '10/10', '10-4', '???', '!!!', '-----'];
    const ids: Record<string, string> = {};
    for (const title of symbolic) {
      ids[title] = (await fixture.writer.write({ source: 'manual', title })).id;
    }
    // Nothing visible at all: zero-width characters, a NUL, a Hangul filler.
    const { id: invisible } = await fixture.writer.write({
      source: 'manual',
      title: '\u200b\u200d',
      body: '\u0000 \u3164',
    });

    await waitForStreamConsumed(fixture.redis);

    for (const title of symbolic) {
      expect([title, await fixture.redis.hget(`feedback:${ids[title]}`, 'clustered')]).toEqual([
        title,
        'true',
      ]);
    }
    // Emoji-only reviews land together, apart from punctuation and from numbers.
    const emoji = await Promise.all(
      ['👍👍👍', '👍', '🔥🔥', '❤️❤️'].map((t) => clusterOf(fixture.redis, ids[t])),
    );
    expect(new Set(emoji).size).toBe(1);
    expect(await clusterOf(fixture.redis, ids['???'])).not.toBe(emoji[0]);
    expect(await clusterOf(fixture.redis, ids['10/10'])).not.toBe(emoji[0]);
    expect(await fixture.redis.smembers('feedback:unclustered')).toEqual([invisible]);
    expect(JSON.parse((await fixture.redis.hget('clustering:parked', invisible))!)).toMatchObject({
      reason: 'no visible text',
    });
    expect(await contractViolations(fixture.redis)).toEqual([]);
  });

  it('names clusters in the items’ own words, not in the embedder’s placeholders', async () => {
    await fixture.start();
    for (const title of [
      'App crashes on Android 14 after the update',
      'Crash on Android 14 right after the update',
      'Android 14: app crashes since the update',
    ]) {
      await fixture.writer.write({ source: 'manual', title, body: 'Seen at 10:22 on build 512' });
    }
    await waitUntilNothingWaits(fixture.redis);
    const [clusterId] = await fixture.redis.smembers('clusters:all');
    await waitFor(
      async () => (await fixture.redis.hget('clustering:summaries:size', clusterId)) !== null,
      10_000,
      'the cluster to be summarised',
    );
    const cluster = await fixture.redis.hgetall(`cluster:${clusterId}`);
    const shown = [cluster.title, cluster.summary, cluster.issue_title, cluster.issue_description];
    expect(shown.join('\n')).toContain('Android 14');
    expect(cluster.summary).toContain('build 512');
    for (const text of shown) expect(text).not.toMatch(/<(?:num|time|id|hex|uuid|email|ip)>/);
  });

  it('answers the ECS probes', async () => {
    // No consumer, so nothing recreates the group while the probe is asked.
    const app = await fixture.start({ CONSUMER_ENABLED: 'false' });
    const base = await app.getUrl();
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      info: { redis: { status: 'up' }, consumer_group: { status: 'up' } },
    });

    await fixture.redis.xgroup('DESTROY', 'feedback:events', 'clustering');
    expect((await fetch(`${base}/health/ready`)).status).toBe(503);
  });
});
