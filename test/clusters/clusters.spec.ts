import { Keyspace } from '../../src/redis/keyspace';
import { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { ClusterKeys, FeedbackKeys } from '../../src/redis/keys';
import { startApp } from '../support/test-app';
import { openTestRedis } from '../support/test-redis';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 5;

type Json = Record<string, unknown>;
interface ClusterPage {
  items: Json[];
  next_cursor: string | null;
}

describe('cluster reads over HTTP', () => {
  let redis: Redis;
  let app: INestApplication;
  const items = new Map<string, string[]>();

  beforeAll(async () => {
    app = await startApp(DB);
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(async () => {
    redis = await openTestRedis(DB);
    items.clear();
    const writer = new FeedbackWriter(redis, Keyspace.flat());
    // Clusters as the service writes them; the dashboard adds fields of its own (github_pr_url).
    const clusters = [
      {
        id: 'c-big',
        size: 3,
        updated: '2024-05-01T00:00:00Z',
        extra: { github_pr_url: 'https://github.com/a/b/pull/1' },
      },
      { id: 'c-small', size: 1, updated: '2024-05-03T00:00:00Z', extra: {} },
      { id: 'c-mid', size: 2, updated: '2024-05-02T00:00:00Z', extra: {} },
    ];
    for (const cluster of clusters) {
      const ids: string[] = [];
      for (let i = 0; i < cluster.size; i++) {
        const { id } = await writer.write({
          source: 'reddit',
          title: `${cluster.id} report ${i}`,
          createdAt: `2024-04-0${i + 1}T00:00:00Z`,
          metadata: { subreddit: 'app', rank: i },
        });
        await redis.sadd(ClusterKeys.items(cluster.id), id);
        await redis.hset(FeedbackKeys.item(id), { clustered: 'true', cluster_id: cluster.id });
        ids.push(id);
      }
      items.set(cluster.id, ids);
      await redis.hset(ClusterKeys.cluster(cluster.id), {
        id: cluster.id,
        title: `title of ${cluster.id}`,
        summary: 'summary',
        issue_title: 'issue',
        issue_description: 'description',
        status: 'new',
        size: String(cluster.size),
        sources: '["reddit"]',
        centroid: '[0.5,0.25]',
        embedding_model: 'local-v1',
        created_at: '2024-04-01T00:00:00Z',
        updated_at: cluster.updated,
        ...cluster.extra,
      });
      await redis.sadd(ClusterKeys.all, cluster.id);
    }
    // Merged twice over: old-1 -> old-2 -> c-big; and a broken cycle.
    await redis.hset(ClusterKeys.cluster('old-1'), {
      id: 'old-1',
      status: 'merged',
      merged_into: 'old-2',
    });
    await redis.hset(ClusterKeys.cluster('old-2'), {
      id: 'old-2',
      status: 'merged',
      merged_into: 'c-big',
    });
    await redis.hset(ClusterKeys.cluster('loop-a'), {
      id: 'loop-a',
      status: 'merged',
      merged_into: 'loop-b',
    });
    await redis.hset(ClusterKeys.cluster('loop-b'), {
      id: 'loop-b',
      status: 'merged',
      merged_into: 'loop-a',
    });
  });

  afterEach(async () => {
    await redis.flushdb();
    await redis.quit();
  });

  const http = () => request(app.getHttpServer());

  async function allPages(query: Record<string, string>): Promise<Json[]> {
    const seen: Json[] = [];
    let cursor: string | null = null;
    do {
      const { body } = await http()
        .get('/clusters')
        .query(cursor ? { ...query, cursor } : query)
        .expect(200);
      const page = body as ClusterPage;
      seen.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return seen;
  }

  it('pages live clusters largest first, with typed size and sources and no centroid', async () => {
    const first = (await http().get('/clusters').query({ limit: 2 }).expect(200))
      .body as ClusterPage;
    expect(first.items.map((c) => c.id)).toEqual(['c-big', 'c-mid']);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(first.items[0]).toMatchObject({
      id: 'c-big',
      title: 'title of c-big',
      size: 3,
      sources: ['reddit'],
      status: 'new',
      updated_at: '2024-05-01T00:00:00Z',
      github_pr_url: 'https://github.com/a/b/pull/1',
    });
    expect(first.items[0]).not.toHaveProperty('centroid');

    const rest = (
      await http().get('/clusters').query({ limit: 2, cursor: first.next_cursor }).expect(200)
    ).body as ClusterPage;
    expect(rest).toEqual({
      items: [expect.objectContaining({ id: 'c-small' })],
      next_cursor: null,
    });
  });

  it('sorts by most recently updated on request', async () => {
    const seen = await allPages({ sort: 'recent', limit: '1' });
    expect(seen.map((c) => c.id)).toEqual(['c-small', 'c-mid', 'c-big']);
  });

  it('answers one cluster with its feedback hydrated and paged, newest first', async () => {
    const ids = items.get('c-big') ?? [];
    const first = (await http().get('/clusters/c-big').query({ feedback_limit: 2 }).expect(200))
      .body as Json & { feedback: Json[]; feedback_next_cursor: string | null };
    expect(first).toMatchObject({ id: 'c-big', size: 3, centroid: [0.5, 0.25] });
    expect(first).not.toHaveProperty('redirected_from');
    expect(first.feedback.map((f) => f.id)).toEqual([ids[2], ids[1]]);
    expect(first.feedback[0]).toMatchObject({
      source: 'reddit',
      title: 'c-big report 2',
      cluster_id: 'c-big',
      metadata: { subreddit: 'app', rank: 2 },
    });

    const second = (
      await http()
        .get('/clusters/c-big')
        .query({ feedback_limit: 2, feedback_cursor: first.feedback_next_cursor })
        .expect(200)
    ).body as { feedback: Json[]; feedback_next_cursor: string | null };
    expect(second.feedback.map((f) => f.id)).toEqual([ids[0]]);
    expect(second.feedback_next_cursor).toBeNull();
  });

  it('answers a merged id with its survivor, following the chain, and says so', async () => {
    const { body } = await http().get('/clusters/old-1').expect(200);
    expect(body).toMatchObject({ id: 'c-big', size: 3, redirected_from: 'old-1' });
    expect((body as { feedback: Json[] }).feedback).toHaveLength(3);
  });

  it('answers 404 for an unknown id and for a merge chain that never ends', async () => {
    const unknown = await http().get('/clusters/nope').expect(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, message: 'no cluster nope' });
    await http().get('/clusters/loop-a').expect(404);
  });

  it('answers 400 for bad paging parameters, saying what is wrong', async () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['/clusters', { limit: '0' }, /limit must not be less than 1/],
      ['/clusters', { limit: 'many' }, /limit must be an integer/],
      ['/clusters', { sort: 'name' }, /sort must be one of the following values: size, recent/],
      ['/clusters', { cursor: 'garbage' }, /cursor must be the next_cursor of a previous page/],
      ['/clusters', { page: '2' }, /property page should not exist/],
      [
        '/clusters/c-big',
        { feedback_limit: '1000' },
        /feedback_limit must not be greater than 200/,
      ],
    ];
    for (const [path, query, message] of cases) {
      const { body } = await http().get(path).query(query).expect(400);
      expect((body as { message: string[] }).message.join('; ')).toMatch(message);
    }
  });
});
