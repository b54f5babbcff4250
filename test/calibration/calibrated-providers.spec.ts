import { Keyspace } from '../../src/redis/keyspace';
import { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CalibrationStore } from '../../src/calibration/calibration.store';
import { REFERENCE_TEXTS } from '../../src/calibration/reference-texts';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { ClusterKeys, FeedbackKeys } from '../../src/redis/keys';
import { GeminiStandIn } from '../stand-ins/gemini-stand-in';
import { ShiftedSemanticEmbeddings } from '../stand-ins/shifted-embeddings';
import { contractViolations } from '../support/contract-invariants';
import { startService } from '../support/service-harness';
import { closeTestRedis, openTestRedis, waitFor } from '../support/test-redis';

/** This spec's own database. */
const DB = 3;
const MODEL = 'gemini-embedding-001@768';

/**
 * Four topics, six reports each. The stand-in's semantic vectors come from the local embedder,
 * which sees shared words more than shared meaning, so each topic keeps its key words.
 */
const TOPICS: Record<string, string[]> = {
  login: [
    'Login fails on Android after the update',
    'Login fails every time on my phone',
    'The login screen fails and spins forever',
    'Login keeps failing with a spinner',
    'Android login fails since yesterday',
    'Login fails, the button just spins',
  ],
  darkMode: [
    'Dark mode text is unreadable',
    'Dark mode contrast is unreadable at night',
    'Please fix dark mode, the grey text is unreadable',
    'Dark mode makes the labels unreadable',
    'Unreadable text in dark mode',
    'Dark mode colours are unreadable',
  ],
  export: [
    'CSV export drops columns',
    'CSV export is missing columns',
    'The CSV export drops the last columns',
    'Columns missing from the CSV export',
    'CSV export loses columns again',
    'Export to CSV drops two columns',
  ],
  billing: [
    'Charged twice for my subscription',
    'My subscription was charged twice',
    'Double charge on my subscription',
    'Subscription payment charged twice this month',
    'I got charged twice for the subscription',
    'Charged twice, please refund my subscription',
  ],
};

describe('calibrated clustering through the Gemini adapter, at hosted-model scales', () => {
  let redis: Redis;
  let gemini: GeminiStandIn | undefined;
  let app: INestApplication | undefined;

  beforeEach(async () => {
    redis = await openTestRedis(DB);
  });

  afterEach(async () => {
    await app?.close();
    await gemini?.stop();
    [app, gemini] = [undefined, undefined];
    await closeTestRedis(redis);
  });

  // Raw cosine thresholds put everything into one cluster at these backgrounds.
  it.each([0.6, 0.8])(
    'keeps topics apart when unrelated texts meet at cosine %s',
    async (background) => {
      const embeddings = new ShiftedSemanticEmbeddings(background);
      gemini = await new GeminiStandIn('test-key', embeddings).start();
      app = await startService(DB, {
        GEMINI_API_KEY: gemini.apiKey,
        GEMINI_BASE_URL: gemini.url,
        EMBEDDING_DIMENSIONS: '768',
        GEMINI_SUMMARIES_PER_MINUTE: '100000',
      });
      const rows = Object.entries(TOPICS).flatMap(([topic, texts]) =>
        texts.map((title) => ({ topic, title })),
      );
      // Interleaved arrival, as real feedback comes in.
      rows.sort((a, b) => TOPICS[a.topic].indexOf(a.title) - TOPICS[b.topic].indexOf(b.title));
      const outcomes = await new FeedbackWriter(redis, Keyspace.flat()).writeMany(
        rows.map((r) => ({ source: 'manual', title: r.title })),
      );
      const ids = outcomes.map((o) => (o.ok ? o.id : ''));
      await waitFor(
        async () => (await redis.scard(FeedbackKeys.unclustered)) === 0,
        30_000,
        'every item clustered',
      );

      // The vectors really are at the hosted-model scale.
      const vectors = await embeddings.embed(
        rows.map((r) => r.title),
        768,
      );
      const unit = vectors.map((v) => v.map((x) => x / Math.hypot(...v)));
      const across = unit[0].reduce((sum, x, d) => sum + x * unit[1][d], 0);
      expect(across).toBeGreaterThan(background - 0.15);

      const topicsByCluster = new Map<string, Set<string>>();
      for (const [i, id] of ids.entries()) {
        const clusterId = (await redis.hget(FeedbackKeys.item(id), 'cluster_id')) ?? '';
        topicsByCluster.set(
          clusterId,
          (topicsByCluster.get(clusterId) ?? new Set()).add(rows[i].topic),
        );
      }
      // Every cluster holds one topic, and topics are not scattered into singletons.
      expect([...topicsByCluster.values()].filter((t) => t.size > 1)).toEqual([]);
      expect(topicsByCluster.size).toBeLessThanOrEqual(8);
      expect(await redis.scard(ClusterKeys.all)).toBe(topicsByCluster.size);
      expect(await contractViolations(redis)).toEqual([]);

      // The model's calibration is kept in Redis: the reference texts it started from, then
      // every item it clustered.
      const calibration = await new CalibrationStore(redis, Keyspace.flat()).load(MODEL);
      expect(calibration.count).toBe(REFERENCE_TEXTS.length + rows.length);
      expect(calibration.background).toBeGreaterThan(background - 0.15);
    },
    60_000,
  );
});
