import { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { Keyspace } from '../../src/redis/keyspace';
import { startApp } from '../support/test-app';
import { closeTestRedis, openTestRedis, waitFor } from '../support/test-redis';

/** This spec's own database on the real Redis. */
const DB = 14;
const HOUR_MS = 3_600_000;
const PROJECT = 'clxtrends0000project01';

type Json = Record<string, unknown>;

describe('trends over HTTP', () => {
  let redis: Redis;
  let app: INestApplication;

  afterEach(async () => {
    await app.close();
    await closeTestRedis(redis);
  });

  /** A cluster 30 days old that had 10 arrivals a day for the past 6 days and 1 today. */
  async function fadingCluster(keys: Keyspace, id: string) {
    const now = Date.now();
    const created = new Date(now - 30 * 24 * HOUR_MS).toISOString();
    await redis.hset(keys.clusters.cluster(id), {
      id,
      title: 'old topic',
      status: 'new',
      size: 61,
      sources: '["manual"]',
      created_at: created,
      updated_at: created,
    });
    if (keys.clusters.allIsSorted) await redis.zadd(keys.clusters.all, 1, id);
    else await redis.sadd(keys.clusters.all, id);
    const hour = Math.floor(now / HOUR_MS);
    const buckets: Record<string, number> = { [`h:${hour}`]: 1 };
    for (let d = 1; d <= 6; d++) buckets[`h:${hour - 24 * d}`] = 10;
    await redis.hset(keys.service.trends(id), buckets);
    await redis.hincrby(keys.service.arrivals, `h:${hour}`, 61);
  }

  it('counts arrivals as items are clustered, flags the emerging cluster and lists by trend', async () => {
    redis = await openTestRedis(DB);
    app = await startApp(DB, { CONSUMER_ENABLED: 'true' });
    const since = new Date().toISOString();
    const writer = new FeedbackWriter(redis, Keyspace.flat());
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push((await writer.write({ source: 'manual', title: `payment failed ${i}` })).id);
    for (let i = 0; i < 2; i++)
      ids.push((await writer.write({ source: 'manual', title: `dark mode ${i}` })).id);
    await waitFor(
      async () => (await redis.smismember('feedback:unclustered', ...ids)).every((m) => m === 0),
      20_000,
      'every item clustered',
    );
    const clusterOf = async (id: string) => (await redis.hget(`feedback:${id}`, 'cluster_id'))!;
    const payment = await clusterOf(ids[0]);
    const dark = await clusterOf(ids[7]);

    const detail = (await request(app.getHttpServer()).get(`/clusters/${payment}`).expect(200))
      .body as Json;
    expect(detail).toMatchObject({ size: 6, growth_24h: 6, growth_7d: 6, emerging: true });
    const quiet = (await request(app.getHttpServer()).get(`/clusters/${dark}`).expect(200))
      .body as Json;
    expect(quiet).toMatchObject({ growth_24h: 2, growth_7d: 2, emerging: false });

    // A busy older cluster raises the project's base rate (63 other arrivals in 7 days over 2
    // other clusters: 4.5 a day), and 6 arrivals are no longer 3 times that.
    await fadingCluster(Keyspace.flat(), 'c-old');
    const outgrown = (await request(app.getHttpServer()).get(`/clusters/${payment}`).expect(200))
      .body as Json;
    expect(outgrown).toMatchObject({ growth_24h: 6, emerging: false });

    const trending = (await request(app.getHttpServer()).get('/clusters?sort=trending').expect(200))
      .body as { items: Json[] };
    expect(trending.items.map((c) => c.id)).toEqual([payment, dark, 'c-old']);
    expect(trending.items[2]).toMatchObject({ growth_24h: 1, growth_7d: 61, emerging: false });
    expect(trending.items[2].trend_score).toBeCloseTo(1 - 60 / 6);
    // Other orders carry the same fields.
    const bySize = (await request(app.getHttpServer()).get('/clusters').expect(200)).body as {
      items: Json[];
    };
    expect(bySize.items[0]).toMatchObject({ id: 'c-old', growth_7d: 61 });

    const fresh = (
      await request(app.getHttpServer())
        .get(`/trends/clusters?new_since=${encodeURIComponent(since)}&limit=1`)
        .expect(200)
    ).body as { items: Json[]; next_cursor: string | null };
    expect(fresh.items.map((c) => c.id)).toEqual([payment]);
    const next = (
      await request(app.getHttpServer())
        .get(`/trends/clusters?new_since=${encodeURIComponent(since)}&cursor=${fresh.next_cursor}`)
        .expect(200)
    ).body as { items: Json[]; next_cursor: string | null };
    expect(next).toMatchObject({
      items: [expect.objectContaining({ id: dark })],
      next_cursor: null,
    });
    await request(app.getHttpServer()).get('/trends/clusters?new_since=yesterday').expect(400);
    // The cluster list takes it too.
    const newOnes = (
      await request(app.getHttpServer())
        .get(`/clusters?sort=trending&new_since=${encodeURIComponent(since)}`)
        .expect(200)
    ).body as { items: Json[] };
    expect(newOnes.items.map((c) => c.id)).toEqual([payment, dark]);
    await request(app.getHttpServer()).get('/clusters?new_since=yesterday').expect(400);

    const lines = (
      await request(app.getHttpServer()).get(`/trends/clusters/${payment}`).expect(200)
    ).body as { hourly_7d: number[]; daily_90d: number[] };
    expect(lines.hourly_7d).toHaveLength(168);
    expect(lines.daily_90d).toHaveLength(90);
    expect(lines.hourly_7d.reduce((a, b) => a + b, 0)).toBe(6);
    expect(lines.daily_90d.slice(-2).reduce((a, b) => a + b, 0)).toBe(6);
    await request(app.getHttpServer()).get('/trends/clusters/no-such-cluster').expect(404);
  });

  it('serves one project’s trends in the project layout, and asks for project_id', async () => {
    redis = await openTestRedis(DB);
    app = await startApp(DB, { KEY_LAYOUT: 'project' });
    const keys = Keyspace.project(PROJECT);
    await fadingCluster(keys, 'c-old');
    await fadingCluster(Keyspace.project('clxother0000project01'), 'c-other');

    const missing = await request(app.getHttpServer()).get('/trends/clusters').expect(400);
    expect(JSON.stringify(missing.body)).toContain('project_id');
    const page = (
      await request(app.getHttpServer()).get(`/trends/clusters?project_id=${PROJECT}`).expect(200)
    ).body as { items: Json[] };
    expect(page.items).toEqual([
      expect.objectContaining({ id: 'c-old', growth_24h: 1, growth_7d: 61, emerging: false }),
    ]);
    const lines = (
      await request(app.getHttpServer())
        .get(`/trends/clusters/c-old?project_id=${PROJECT}`)
        .expect(200)
    ).body as { hourly_7d: number[] };
    expect(lines.hourly_7d.filter((n) => n > 0)).toEqual([10, 10, 10, 10, 10, 10, 1]);
  });
});
