import { EmbedOutcome } from '../../src/ports/embedder.port';
import { FeedbackKeys, ServiceKeys } from '../../src/redis/keys';
import { contractViolations } from '../support/contract-invariants';
import { useServiceFixture } from '../support/service-fixture';
import { startApp } from '../support/test-app';
import { waitFor } from '../support/test-redis';
import { TopicEmbedder } from '../support/topic-embedder';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 2;

/** The topic embedder, taking `delayMs` per call and recording every text it embedded. */
class SlowEmbedder extends TopicEmbedder {
  readonly embedded: string[] = [];

  constructor(private readonly delayMs: number) {
    super();
  }

  override async embed(texts: readonly string[]): Promise<EmbedOutcome[]> {
    this.embedded.push(...texts);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return super.embed(texts);
  }
}

/** Distinct texts (numbers would be normalised away), on two topics. */
const WORDS = ['amber', 'birch', 'cedar', 'delta', 'ember', 'fjord'];
const TITLES = WORDS.flatMap((word) => [
  `payment declined at checkout near ${word}`,
  `crash on start after update near ${word}`,
]);

describe('outages and slow batches (whole replicas on the real Redis)', () => {
  let embedder = new SlowEmbedder(0);
  const fixture = useServiceFixture(DB, (db, env) =>
    startApp(db, { CONSUMER_ENABLED: 'true', ...env }, { embedder }),
  );

  async function writeAll(): Promise<string[]> {
    const outcomes = await fixture.writer.writeMany(
      TITLES.map((title) => ({ source: 'manual', title })),
    );
    return outcomes.map((o) => {
      if (!o.ok) throw o.error;
      return o.id;
    });
  }

  const nothingWaits = async () => (await fixture.redis.scard(FeedbackKeys.unclustered)) === 0;

  it('rides out an assignment lock held past its wait with no dead letter (MAX_DELIVERIES=1)', async () => {
    embedder = new SlowEmbedder(0);
    // Another holder keeps the lock for longer than a batch waits for it (15 s): one lock
    // timeout used to be one delivery, and with MAX_DELIVERIES=1 a dead letter for each item.
    await fixture.redis.set(ServiceKeys.assignLock, 'a-stalled-holder', 'PX', 16_500);
    await fixture.start({ MAX_DELIVERIES: '1', CLAIM_IDLE_MS: '1000' });
    const ids = await writeAll();

    await waitFor(nothingWaits, 45_000, 'every item clustered after the lock is free');

    expect(await fixture.redis.xlen(ServiceKeys.deadLetters)).toBe(0);
    expect(await contractViolations(fixture.redis)).toEqual([]);
    for (const id of ids)
      expect(await fixture.redis.hget(`feedback:${id}`, 'clustered')).toBe('true');
  }, 60_000);

  it('keeps the claim of a batch slower than CLAIM_IDLE_MS: a second replica never takes it', async () => {
    // Each embedding call takes four idle timeouts.
    embedder = new SlowEmbedder(4000);
    // Stored item vectors (ITEM_VECTORS=int8): summaries then read them instead of embedding
    // their sample's texts again, so every embedding call counted here is an item's.
    await fixture.start({
      CONSUMER_NAME: 'replica-a',
      CLAIM_IDLE_MS: '1000',
      ITEM_VECTORS: 'int8',
    });
    await writeAll();
    await waitFor(
      async () => (await fixture.redis.xpending('feedback:events', 'clustering'))[0] === 12,
      10_000,
      'replica-a to hold every entry',
    );
    // An idle second replica looks for idle entries every half CLAIM_IDLE_MS meanwhile.
    await fixture.start({
      CONSUMER_NAME: 'replica-b',
      CLAIM_IDLE_MS: '1000',
      ITEM_VECTORS: 'int8',
    });

    await waitFor(nothingWaits, 45_000, 'every item clustered');

    // Every item's text was embedded once: no entry was claimed and processed a second time.
    // (The calibration's reference texts are embedded too, once per replica; not counted.)
    const items = embedder.embedded.filter((text) => TITLES.includes(text));
    expect(items).toHaveLength(TITLES.length);
    expect(new Set(items).size).toBe(TITLES.length);
    expect(await contractViolations(fixture.redis)).toEqual([]);
    const pending = (await fixture.redis.xpending('feedback:events', 'clustering')) as [number];
    expect(pending[0]).toBe(0);
  }, 60_000);
});
