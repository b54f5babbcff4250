import { contractViolations, centroidViolations } from '../support/contract-invariants';
import { useServiceFixture } from '../support/service-fixture';
import { startApp } from '../support/test-app';
import { waitFor } from '../support/test-redis';
import { TopicEmbedder, topicVector } from '../support/topic-embedder';
import { Embedder, EmbedOutcome } from '../../src/ports/embedder.port';
import { decodeVectorRecord } from '../../src/item-vectors/vector-record';

const DB = 3;

/** A replica with its stream consumer on and the instant topic embedder. */
const startReplica = (db: number, env: Record<string, string> = {}) =>
  // Stored vectors: an update takes the old one out of its cluster exactly, and the centroid
  // check reads them.
  startApp(db, { CONSUMER_ENABLED: 'true', CLAIM_IDLE_MS: '1000', ITEM_VECTORS: 'int8', ...env });

describe('updated items are re-clustered through the real pipeline (CONTRACT §1 "Updates")', () => {
  const fixture = useServiceFixture(DB, startReplica);
  const waitUntilClustered = (id: string) =>
    waitFor(
      async () =>
        (await fixture.redis.sismember('feedback:unclustered', id)) === 0 &&
        (await fixture.redis.hget(`feedback:${id}`, 'clustered')) === 'true',
      15_000,
      `${id} clustered`,
    );
  const clusterOf = async (id: string) =>
    (await fixture.redis.hget(`feedback:${id}`, 'cluster_id')) ?? '';

  it('moves an item to its new topic: the old cluster drops it from members, size and centroid', async () => {
    await fixture.start();
    const payments = [];
    const crashes = [];
    for (let i = 0; i < 3; i++) {
      payments.push((await fixture.writer.write({ source: 'manual', title: `payment ${i}` })).id);
      crashes.push((await fixture.writer.write({ source: 'manual', title: `crash ${i}` })).id);
    }
    for (const id of [...payments, ...crashes]) await waitUntilClustered(id);
    const paymentCluster = await clusterOf(payments[0]);
    const crashCluster = await clusterOf(crashes[0]);
    expect(paymentCluster).not.toBe(crashCluster);

    await fixture.writer.update(payments[2], { title: 'crash when I pay', body: '' });
    await waitUntilClustered(payments[2]);

    expect(await clusterOf(payments[2])).toBe(crashCluster);
    expect((await fixture.redis.smembers(`cluster:items:${paymentCluster}`)).sort()).toEqual(
      payments.slice(0, 2).sort(),
    );
    expect(await fixture.redis.hget(`cluster:${paymentCluster}`, 'size')).toBe('2');
    expect(await fixture.redis.hget(`cluster:${crashCluster}`, 'size')).toBe('4');
    // Centroids are the means of the members' vectors: the old one no longer counts the item.
    expect(await centroidViolations(fixture.redis)).toEqual([]);
    expect(await contractViolations(fixture.redis)).toEqual([]);
  });

  it('retires a cluster whose only item leaves, keeping its hash for links held elsewhere', async () => {
    await fixture.start();
    const { id: lonely } = await fixture.writer.write({ source: 'manual', title: 'dark theme' });
    const { id: login } = await fixture.writer.write({ source: 'manual', title: 'login fails' });
    await waitUntilClustered(lonely);
    await waitUntilClustered(login);
    const emptied = await clusterOf(lonely);

    await fixture.writer.update(lonely, { title: 'login fails again', body: '' });
    await waitUntilClustered(lonely);

    expect(await clusterOf(lonely)).toBe(await clusterOf(login));
    expect(await fixture.redis.sismember('clusters:all', emptied)).toBe(0);
    expect(await fixture.redis.scard(`cluster:items:${emptied}`)).toBe(0);
    expect(await fixture.redis.hget(`cluster:${emptied}`, 'size')).toBe('0');
    expect(await fixture.redis.hget(`cluster:${emptied}`, 'emptied_at')).toEqual(
      expect.any(String),
    );
    expect(await fixture.redis.hexists('clustering:index:centroids', emptied)).toBe(0);
    expect(await centroidViolations(fixture.redis)).toEqual([]);
    expect(await contractViolations(fixture.redis)).toEqual([]);
  });

  it('takes an item whose update left no readable text out of its cluster while it is parked', async () => {
    await fixture.start();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await fixture.writer.write({ source: 'manual', title: `payment ${i}` })).id);
    }
    for (const id of ids) await waitUntilClustered(id);
    const cluster = await clusterOf(ids[0]);

    await fixture.writer.update(ids[0], { title: '', body: '   ' });
    await waitFor(
      async () => (await fixture.redis.hexists('clustering:parked', ids[0])) === 1,
      15_000,
      'the update parked',
    );

    expect(await fixture.redis.sismember(`cluster:items:${cluster}`, ids[0])).toBe(0);
    expect(await fixture.redis.hget(`cluster:${cluster}`, 'size')).toBe('2');
    expect(await fixture.redis.sismember('feedback:unclustered', ids[0])).toBe(1);
    expect(await centroidViolations(fixture.redis)).toEqual([]);
    expect(await contractViolations(fixture.redis)).toEqual([]);
  });

  it('keeps centroids the exact mean of their members while an item leaves and rejoins many times', async () => {
    await fixture.start();
    const payments = [];
    for (let i = 0; i < 2; i++) {
      payments.push((await fixture.writer.write({ source: 'manual', title: `payment ${i}` })).id);
    }
    const crash = (await fixture.writer.write({ source: 'manual', title: 'crash 0' })).id;
    for (const id of [...payments, crash]) await waitUntilClustered(id);

    // Every departure subtracts the vector its join added: no rounding is left behind, however
    // often a cluster grows and shrinks (with raw vectors in, int8 records out, it drifted).
    for (let round = 0; round < 12; round++) {
      const topic = round % 2 === 0 ? 'crash' : 'payment';
      await fixture.writer.update(payments[1], { title: `${topic} ${round}`, body: '' });
      await waitUntilClustered(payments[1]);
    }

    expect(await centroidViolations(fixture.redis, 1e-5)).toEqual([]);
    expect(await contractViolations(fixture.redis)).toEqual([]);
  });

  it('clusters an item on the text a producer re-wrote while its old text was being embedded', async () => {
    let racer: ((text: string) => Promise<void>) | undefined;
    /** The topic embedder, with a producer that re-writes the item during the embedding call. */
    const racing: Embedder = {
      ...new TopicEmbedder(),
      model: 'test-topics@12',
      dimensions: 12,
      cheapToRecompute: true,
      async embed(texts: readonly string[]): Promise<EmbedOutcome[]> {
        for (const text of texts) await racer?.(text);
        return new TopicEmbedder().embed(texts);
      },
    };
    const app = await startApp(
      DB,
      { CONSUMER_ENABLED: 'true', ITEM_VECTORS: 'int8' },
      {
        embedder: racing,
      },
    );
    try {
      const { id: crash } = await fixture.writer.write({ source: 'manual', title: 'crash 0' });
      await waitUntilClustered(crash);
      const { id } = await fixture.writer.write({ source: 'manual', title: 'payment 1' });
      await waitUntilClustered(id);
      racer = async (text) => {
        if (!text.includes('payment again')) return;
        racer = undefined;
        await fixture.writer.update(id, { title: 'crash instead', body: '' });
      };
      await fixture.writer.update(id, { title: 'payment again', body: '' });
      await waitFor(
        async () => (await clusterOf(id)) === (await clusterOf(crash)),
        15_000,
        'the item clustered on its re-written text',
      );
      await waitUntilClustered(id);
      const record = await fixture.redis.hgetBuffer('clustering:vectors:items', id);
      const stored = record ? decodeVectorRecord(record, 'test-topics@12') : undefined;
      const expected = topicVector('crash instead');
      expect(stored).toBeDefined();
      stored?.forEach((x, i) => expect(x).toBeCloseTo(expected[i], 1));
      expect(await centroidViolations(fixture.redis)).toEqual([]);
      expect(await contractViolations(fixture.redis)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('keeps an item in one cluster when many updates of it race across two replicas', async () => {
    await fixture.start({ CONSUMER_NAME: 'replica-a', BATCH_MAX_ITEMS: '4' });
    await fixture.start({ CONSUMER_NAME: 'replica-b', BATCH_MAX_ITEMS: '4' });
    const ids = [];
    for (let i = 0; i < 8; i++) {
      ids.push((await fixture.writer.write({ source: 'manual', title: `payment ${i}` })).id);
    }
    for (const id of ids) await waitUntilClustered(id);

    const topics = ['crash', 'login', 'dark', 'payment'];
    for (let round = 0; round < 4; round++) {
      for (const [i, id] of ids.entries()) {
        const topic = topics[(round + i) % topics.length];
        await fixture.writer.update(id, { title: `${topic} ${round} ${i}`, body: '' });
      }
    }
    for (const id of ids) await waitUntilClustered(id);

    expect(await contractViolations(fixture.redis)).toEqual([]);
    expect(await centroidViolations(fixture.redis)).toEqual([]);
    const sizes = await Promise.all(
      (await fixture.redis.smembers('clusters:all')).map((c) =>
        fixture.redis.scard(`cluster:items:${c}`),
      ),
    );
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(ids.length);
  });
});
