import { Keyspace } from '../../src/redis/keyspace';
import { Redis } from 'ioredis';
import {
  FeedbackValidationError,
  FeedbackWriter,
  NewFeedback,
} from '../../src/feedback/feedback-writer';
import { FeedbackKeys } from '../../src/redis/keys';
import { TEST_REDIS_URL } from '../support/test-redis';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 9;
const REDIS_URL = TEST_REDIS_URL;

describe('FeedbackWriter', () => {
  let redis: Redis;
  let writer: FeedbackWriter;

  beforeEach(async () => {
    redis = new Redis(REDIS_URL, { db: DB });
    await redis.flushdb();
    writer = new FeedbackWriter(redis, Keyspace.flat());
  });

  afterEach(async () => {
    await redis.flushdb();
    await redis.quit();
  });

  async function events(): Promise<Record<string, string>[]> {
    const entries = await redis.xrange(FeedbackKeys.events, '-', '+');
    return entries.map(([, fields]) => {
      const record: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) record[fields[i]] = fields[i + 1];
      return record;
    });
  }

  it('writes the hash, both sorted sets, the external key, the unclustered set and one event', async () => {
    const before = Date.now();
    const { id, created } = await writer.write({
      source: 'github',
      title: 'Sync loses edits',
      body: 'Edits made offline vanish after reconnecting.',
      createdAt: '2024-05-01T12:00:00+02:00',
      externalId: 'acme/notes#42',
      rawText: 'raw text',
      metadata: { labels: ['bug', 'sync'] },
      repo: 'acme/notes',
      githubIssueUrl: 'https://github.com/acme/notes/issues/42',
      githubIssueNumber: 42,
      status: 'open',
    });

    expect(created).toBe(true);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await redis.hgetall(FeedbackKeys.item(id))).toEqual({
      id,
      source: 'github',
      title: 'Sync loses edits',
      body: 'Edits made offline vanish after reconnecting.',
      created_at: '2024-05-01T12:00:00+02:00',
      clustered: 'false',
      external_id: 'acme/notes#42',
      raw_text: 'raw text',
      metadata: '{"labels":["bug","sync"]}',
      repo: 'acme/notes',
      github_issue_url: 'https://github.com/acme/notes/issues/42',
      github_issue_number: '42',
      status: 'open',
    });
    const unixSeconds = String(Date.UTC(2024, 4, 1, 10) / 1000);
    expect(await redis.zscore(FeedbackKeys.created, id)).toBe(unixSeconds);
    expect(await redis.zscore(FeedbackKeys.bySource('github'), id)).toBe(unixSeconds);
    expect(await redis.get(FeedbackKeys.external('github', 'acme/notes#42'))).toBe(id);
    expect(await redis.smembers(FeedbackKeys.unclustered)).toEqual([id]);

    const [event, ...more] = await events();
    expect(more).toHaveLength(0);
    expect(Object.keys(event).sort()).toEqual(['id', 'ts', 'type']);
    expect(event.type).toBe('feedback.created');
    expect(event.id).toBe(id);
    expect(Number(event.ts)).toBeGreaterThanOrEqual(before);
    expect(Number(event.ts)).toBeLessThanOrEqual(Date.now());
  });

  it('writes only the required fields for a minimal item, lowercases the source and stamps now', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { id } = await writer.write({ source: ' Reddit ', title: 'Dark mode please' });

    const hash = await redis.hgetall(FeedbackKeys.item(id));
    expect(Object.keys(hash).sort()).toEqual([
      'body',
      'clustered',
      'created_at',
      'id',
      'source',
      'title',
    ]);
    expect(hash.source).toBe('reddit');
    expect(hash.body).toBe('');
    expect(hash.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const score = Number(await redis.zscore(FeedbackKeys.bySource('reddit'), id));
    expect(score).toBeGreaterThanOrEqual(before);
    expect(score).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(await redis.keys('feedback:external:*')).toEqual([]);
  });

  it('returns the existing id instead of writing a second item for a known external id', async () => {
    const first = await writer.write({ source: 'reddit', title: 'a', externalId: 't3_abc' });
    const second = await writer.write({ source: 'REDDIT', title: 'b', externalId: 't3_abc' });
    const otherSource = await writer.write({ source: 'sentry', title: 'c', externalId: 't3_abc' });

    expect(second).toEqual({ id: first.id, created: false });
    expect(otherSource.created).toBe(true);
    expect(await redis.zcard(FeedbackKeys.created)).toBe(2);
    expect(await redis.scard(FeedbackKeys.unclustered)).toBe(2);
    expect(await redis.hget(FeedbackKeys.item(first.id), 'title')).toBe('a');
    expect((await events()).map((e) => e.id)).toEqual([first.id, otherSource.id]);
  });

  it('creates exactly one item when writers race on the same external id', async () => {
    const otherClient = new Redis(REDIS_URL, { db: DB });
    try {
      const writers = [writer, new FeedbackWriter(otherClient, Keyspace.flat())];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          writers[i % 2].write({ source: 'sentry', title: `crash ${i}`, externalId: 'evt-1' }),
        ),
      );

      const createdIds = results.filter((r) => r.created).map((r) => r.id);
      expect(createdIds).toHaveLength(1);
      expect(new Set(results.map((r) => r.id))).toEqual(new Set(createdIds));
      expect(await redis.zcard(FeedbackKeys.created)).toBe(1);
      expect(await redis.xlen(FeedbackKeys.events)).toBe(1);
    } finally {
      await otherClient.quit();
    }
  });

  it('writes like an old producer without the stream event when emitEvent is false', async () => {
    const { id } = await writer.write({ source: 'manual', body: 'call me' }, { emitEvent: false });

    expect(await redis.exists(FeedbackKeys.events)).toBe(0);
    expect(await redis.smembers(FeedbackKeys.unclustered)).toEqual([id]);
    expect(await redis.hget(FeedbackKeys.item(id), 'clustered')).toBe('false');
  });

  it.each<[string, unknown, string]>([
    ['a missing source', { title: 't' }, 'source is required'],
    ['a source with spaces', { source: 'app store', title: 't' }, 'must be one word'],
    ['a source with a colon', { source: 'a:b', title: 't' }, 'must be one word'],
    ['metadata that is an array', { source: 'x', title: 't', metadata: [1] }, 'metadata'],
    ['metadata that is a string', { source: 'x', title: 't', metadata: '{}' }, 'metadata'],
    ['no title and no body', { source: 'x', title: ' ', body: '' }, 'both empty'],
    [
      'a date without offset',
      { source: 'x', title: 't', createdAt: '2024-05-01T10:00:00' },
      'offset',
    ],
    ['an impossible date', { source: 'x', title: 't', createdAt: '2024-13-45T10:00:00Z' }, 'date'],
    ['an unknown status', { source: 'x', title: 't', status: 'wontfix' }, 'open or closed'],
    [
      'a bad issue number',
      { source: 'x', title: 't', githubIssueNumber: '4a' },
      'positive integer',
    ],
    ['a repo that is not owner/name', { source: 'x', title: 't', repo: 'notes' }, 'owner/name'],
    ['a title that is a number', { source: 'x', title: 5 }, 'title must be a string'],
  ])('rejects %s with the reason and writes nothing', async (_case, input, reason) => {
    const write = writer.write(input as NewFeedback);

    await expect(write).rejects.toBeInstanceOf(FeedbackValidationError);
    await expect(write).rejects.toThrow(reason);
    expect(await redis.dbsize()).toBe(0);
  });

  it('writeMany writes valid inputs across batches, reports bad ones and de-duplicates within the call', async () => {
    const inputs: NewFeedback[] = [
      ...Array.from({ length: 7 }, (_, i) => ({ source: 'reddit', title: `post ${i}` })),
      { source: 'sentry', title: 'boom', externalId: 'evt-9' },
      { source: 'not valid', title: 'x' },
      { source: 'sentry', title: 'boom again', externalId: 'evt-9' },
    ];

    const outcomes = await writer.writeMany(inputs, { batchSize: 3 });

    expect(outcomes).toHaveLength(10);
    expect(outcomes.slice(0, 8).every((o) => o.ok && o.created)).toBe(true);
    const rejected = outcomes[8];
    expect(rejected.ok).toBe(false);
    expect(!rejected.ok && rejected.error.message).toMatch(/source "not valid"/);
    const sentry = outcomes[7];
    expect(outcomes[9]).toEqual({ ok: true, id: sentry.ok && sentry.id, created: false });
    expect(await redis.zcard(FeedbackKeys.created)).toBe(8);
    expect(await redis.scard(FeedbackKeys.unclustered)).toBe(8);
    expect(await redis.xlen(FeedbackKeys.events)).toBe(8);
    expect(await redis.zcard(FeedbackKeys.bySource('reddit'))).toBe(7);
  });

  it('writeMany honours emitEvent: false', async () => {
    const outcomes = await writer.writeMany(
      [
        { source: 'reddit', title: 'one' },
        { source: 'reddit', title: 'two' },
      ],
      { emitEvent: false },
    );

    expect(outcomes.every((o) => o.ok && o.created)).toBe(true);
    expect(await redis.exists(FeedbackKeys.events)).toBe(0);
    expect(await redis.scard(FeedbackKeys.unclustered)).toBe(2);
  });
});
