import { Keyspace } from '../../src/redis/keyspace';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ClusterJobRepository } from '../../src/jobs/cluster-job.repository';
import { JOB_CONSUMER_GROUP, JOB_STREAM } from '../../src/jobs/jobs.constants';
import { FeedbackKeys, JobKeys, ServiceKeys } from '../../src/redis/keys';
import { expectClustered } from '../support/invariants';
import { useServiceFixture } from '../support/service-fixture';
import { eventually } from '../support/test-app';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 4;
const ZERO_COUNTS = {
  clustered_count: 0,
  new_clusters: 0,
  updated_clusters: 0,
  failed_embeddings: 0,
  missing_feedback: 0,
  parked: 0,
  skipped: 0,
  merged_clusters: 0,
  absorbed_clusters: 0,
  moved_items: 0,
  refreshed_summaries: 0,
  pruned_jobs: 0,
};

interface JobJson {
  id: string;
  status: string;
  trigger: string;
  mode: string;
  filters: Record<string, unknown>;
  stats: Record<string, number>;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  error?: string;
  attempts: number;
}

describe('clustering jobs', () => {
  const fixture = useServiceFixture(DB);
  const replica = (env?: Record<string, string>) => fixture.start(env);

  async function finished(app: INestApplication, id: string): Promise<JobJson> {
    return eventually(async () => {
      const { body } = await request(app.getHttpServer()).get(`/cluster-jobs/${id}`).expect(200);
      const job = body as JobJson;
      return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
    });
  }

  /** Items written like an old producer: no event, only `feedback:unclustered`. */
  async function writeSilently(
    items: Array<{ source: string; title: string; createdAt?: string }>,
  ): Promise<string[]> {
    const outcomes = await fixture.writer.writeMany(items, { emitEvent: false });
    return outcomes.map((o) => {
      if (!o.ok) throw o.error;
      return o.id;
    });
  }

  it('accepts a job with 202, runs it to succeeded and clusters what waited', async () => {
    const ids = await writeSilently([
      { source: 'reddit', title: 'payment fails at checkout' },
      { source: 'sentry', title: 'payment declined error' },
      { source: 'reddit', title: 'please add dark mode' },
    ]);
    const app = await replica();

    const accepted = await request(app.getHttpServer()).post('/cluster-jobs').send({}).expect(202);
    const job = accepted.body as JobJson;
    expect(job).toMatchObject({
      status: 'pending',
      trigger: 'api',
      mode: 'incremental',
      filters: {},
      stats: expect.objectContaining({ clustered_count: 0 }),
    });
    expect(Date.parse(job.created_at)).not.toBeNaN();
    const score = await fixture.redis.zscore(JobKeys.recent, job.id);
    expect(Number(score)).toBe(Math.floor(Date.parse(job.created_at) / 1000));

    const done = await finished(app, job.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      stats: { clustered_count: 3, new_clusters: 2, failed_embeddings: 0, missing_feedback: 0 },
    });
    expect(done.error).toBeUndefined();
    expect(Date.parse(done.finished_at ?? '')).toBeGreaterThanOrEqual(
      Date.parse(done.started_at ?? ''),
    );
    expect(done.stats.duration_ms).toEqual(expect.any(Number));
    const placed = await expectClustered(fixture.redis, ids);
    expect(placed.get(ids[0])).toBe(placed.get(ids[1]));
    expect(placed.get(ids[2])).not.toBe(placed.get(ids[0]));

    // Stored as the contract says: JSON strings in the hash.
    const hash = await fixture.redis.hgetall(JobKeys.job(job.id));
    expect(JSON.parse(hash.stats)).toEqual(done.stats);
    expect(hash.filters).toBe('{}');
  });

  it('runs POST /clusters/run the same way, with filters on source and since', async () => {
    const [oldReddit, newReddit, newSentry, newManual] = await writeSilently([
      { source: 'reddit', title: 'payment old', createdAt: '2024-01-01T00:00:00Z' },
      { source: 'reddit', title: 'payment new', createdAt: '2024-06-01T00:00:00Z' },
      { source: 'sentry', title: 'crash new', createdAt: '2024-06-02T00:00:00+02:00' },
      { source: 'manual', title: 'login new', createdAt: '2024-06-03T00:00:00Z' },
    ]);
    const app = await replica();

    const filters = { source: ['reddit', 'sentry'], since: '2024-05-01T00:00:00Z' };
    const { body } = await request(app.getHttpServer())
      .post('/clusters/run')
      .send(filters)
      .expect(202);
    const done = await finished(app, (body as JobJson).id);

    expect(done).toMatchObject({ status: 'succeeded', filters, stats: { clustered_count: 2 } });
    await expectClustered(fixture.redis, [newReddit, newSentry]);
    expect(await fixture.redis.smembers(FeedbackKeys.unclustered)).toEqual(
      expect.arrayContaining([oldReddit, newManual]),
    );
  });

  it('succeeds at once with zero counts when nothing waits, and skips parked items', async () => {
    const [parkedId] = await writeSilently([{ source: 'reddit', title: 'payment parked' }]);
    await fixture.redis.hset(ServiceKeys.parked, parkedId, JSON.stringify({ reason: 'no text' }));
    const app = await replica();

    const { body } = await request(app.getHttpServer()).post('/cluster-jobs').send({}).expect(202);
    const done = await finished(app, (body as JobJson).id);

    expect(done.status).toBe('succeeded');
    expect(done.stats).toMatchObject({ ...ZERO_COUNTS, parked: 1 });
    expect(await fixture.redis.sismember(FeedbackKeys.unclustered, parkedId)).toBe(1);
  });

  it('clusters items an earlier version parked as unreadable (emoji or digits alone)', async () => {
    const [thumbs, score] = await writeSilently([
      { source: 'reddit', title: '👍👍👍' },
      { source: 'manual', title: '10/10' },
    ]);
    for (const id of [thumbs, score]) {
      const parking = { reason: 'no readable text', at: '2024-05-01T10:00:00.000Z' };
      await fixture.redis.hset(ServiceKeys.parked, id, JSON.stringify(parking));
    }
    const app = await replica();

    const { body } = await request(app.getHttpServer()).post('/cluster-jobs').send({}).expect(202);
    const done = await finished(app, (body as JobJson).id);

    expect(done.stats).toMatchObject({ clustered_count: 2, parked: 0 });
    expect(await fixture.redis.hexists(ServiceKeys.parked, thumbs)).toBe(0);
    expect(await fixture.redis.scard(FeedbackKeys.unclustered)).toBe(0);
  });

  it('pages recent jobs newest first and answers 404 for an unknown id', async () => {
    const app = await replica({ JOBS_CONSUMER_ENABLED: 'false' });
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { body } = await request(app.getHttpServer()).post('/cluster-jobs').send({});
      created.push((body as JobJson).id);
    }

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = { limit: '2' };
      if (cursor) query.cursor = cursor;
      const { body } = await request(app.getHttpServer())
        .get('/cluster-jobs')
        .query(query)
        .expect(200);
      const page = body as { items: JobJson[]; next_cursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((j) => j.id));
      cursor = page.next_cursor;
    } while (cursor);

    // Newest first: by created_at, and all five exactly once.
    expect([...seen].sort()).toEqual([...created].sort());
    const times = await Promise.all(
      seen.map((id) => fixture.redis.hget(JobKeys.job(id), 'created_at')),
    );
    const scores = times.map((t) => Math.floor(Date.parse(t ?? '') / 1000));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    await request(app.getHttpServer())
      .get('/cluster-jobs/00000000-0000-4000-8000-000000000000')
      .expect(404);
  });

  it('completes a job on another replica when the replica running it died', async () => {
    const ids = await writeSilently([{ source: 'reddit', title: 'payment lost in flight' }]);
    // This replica only accepts jobs; it does not run them.
    const accepting = await replica({ JOBS_CONSUMER_ENABLED: 'false' });
    const { body } = await request(accepting.getHttpServer()).post('/cluster-jobs').send({});
    const jobId = (body as JobJson).id;

    // A replica takes the job, marks it running, and dies without finishing or acknowledging.
    await fixture.redis.xreadgroup(
      'GROUP',
      JOB_CONSUMER_GROUP,
      'dead-replica',
      'COUNT',
      1,
      'STREAMS',
      JOB_STREAM,
      '>',
    );
    await new ClusterJobRepository(fixture.redis, Keyspace.flat()).claim(jobId, 1);
    await fixture.stop(accepting);

    const survivor = await replica({ JOB_CLAIM_IDLE_MS: '1000' });
    const done = await finished(survivor, jobId);

    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, stats: { clustered_count: 1 } });
    await expectClustered(fixture.redis, ids);
    // Handled: acknowledged and removed, nothing left pending for anyone.
    const [pending] = (await fixture.redis.xpending(JOB_STREAM, JOB_CONSUMER_GROUP)) as [number];
    expect(pending).toBe(0);
  });

  it('marks a job failed, not running, once it was abandoned too often', async () => {
    const app = await replica({ JOBS_CONSUMER_ENABLED: 'false' });
    const { body } = await request(app.getHttpServer()).post('/cluster-jobs').send({});
    const jobId = (body as JobJson).id;
    await fixture.stop(app);
    // Two replicas in turn took it and died (JOB_MAX_ATTEMPTS=2 below).
    await fixture.redis.xreadgroup(
      'GROUP',
      JOB_CONSUMER_GROUP,
      'dead-1',
      'STREAMS',
      JOB_STREAM,
      '>',
    );
    const [entry] = (await fixture.redis.xpending(
      JOB_STREAM,
      JOB_CONSUMER_GROUP,
      '-',
      '+',
      1,
    )) as Array<[string]>;
    await fixture.redis.xclaim(JOB_STREAM, JOB_CONSUMER_GROUP, 'dead-2', 0, entry[0]);

    const survivor = await replica({ JOB_CLAIM_IDLE_MS: '1000', JOB_MAX_ATTEMPTS: '2' });
    const done = await finished(survivor, jobId);

    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/abandoned after 2 attempts/);
  });
});
