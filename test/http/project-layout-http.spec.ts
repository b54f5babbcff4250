import { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { JOB_STREAM } from '../../src/jobs/jobs.constants';
import { JobKeys } from '../../src/redis/keys';
import { Keyspace, SharedKeys } from '../../src/redis/keyspace';
import { eventually, startApp } from '../support/test-app';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

/** This spec's database on the real Redis (the jobs/HTTP range); flushed around every test. */
const DB = 7;
const A = '0b7a4f4e-3c1d-4e8a-9f3b-1a2b3c4d5e6f';
const B = 'ckx5b2q9r0000abcd1234efgh';
const PROJECT = { KEY_LAYOUT: 'project' };

interface JobJson {
  id: string;
  project_id?: string;
  status: string;
  trigger: string;
  stats: Record<string, unknown>;
}

interface ClusterJson {
  id: string;
  project_id?: string;
  size: number;
  feedback?: Array<Record<string, unknown>>;
}

describe('HTTP and jobs in the project layout (KEY_LAYOUT=project, CONTRACT §7)', () => {
  let redis: Redis;
  const apps: INestApplication[] = [];

  async function start(env: Record<string, string>): Promise<INestApplication> {
    const app = await startApp(DB, env);
    apps.push(app);
    return app;
  }

  beforeEach(async () => {
    redis = await openTestRedis(DB);
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await closeTestRedis(redis);
  });

  /** Items of `projectId` as its producers write them: no event, only its unclustered set. */
  async function writeItems(projectId: string, titles: string[]): Promise<string[]> {
    const writer = new FeedbackWriter(redis, Keyspace.project(projectId));
    const outcomes = await writer.writeMany(
      titles.map((title) => ({ source: 'reddit', title })),
      { emitEvent: false },
    );
    return outcomes.map((o) => {
      if (!o.ok) throw o.error;
      return o.id;
    });
  }

  async function finished(app: INestApplication, projectId: string, id: string): Promise<JobJson> {
    return eventually(async () => {
      const { body } = await request(app.getHttpServer())
        .get(`/cluster-jobs/${id}?project_id=${projectId}`)
        .expect(200);
      const job = body as JobJson;
      return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
    });
  }

  it('answers 400 naming project_id on every route when it is missing or malformed', async () => {
    const app = await start({ ...PROJECT, JOBS_CONSUMER_ENABLED: 'false' });
    const http = () => request(app.getHttpServer());
    const routes: Array<[string, (suffix: string) => request.Test]> = [
      ['GET /clusters', (q) => http().get(`/clusters${q}`)],
      ['GET /clusters/{id}', (q) => http().get(`/clusters/c1${q}`)],
      ['GET /cluster-jobs', (q) => http().get(`/cluster-jobs${q}`)],
      ['GET /cluster-jobs/{id}', (q) => http().get(`/cluster-jobs/j1${q}`)],
      ['POST /cluster-jobs', (q) => http().post(`/cluster-jobs${q}`).send({})],
      ['POST /clusters/run', (q) => http().post(`/clusters/run${q}`).send({})],
    ];
    for (const [route, call] of routes) {
      for (const query of [
        '',
        '?project_id=',
        '?project_id=a:b',
        `?project_id=${'x'.repeat(65)}`,
      ]) {
        const { status, body } = await call(query);
        expect({ route, query, status }).toEqual({ route, query, status: 400 });
        expect(JSON.stringify((body as { message: unknown }).message)).toMatch(/project_id/);
      }
    }
    expect(await redis.keys('cluster_job*')).toEqual([]);
    expect(await redis.xlen(JOB_STREAM)).toBe(0);
  });

  it("runs a project's job for that project only, recorded under it with integer stats", async () => {
    const mine = await writeItems(A, ['payment fails at checkout', 'payment declined error']);
    const theirs = await writeItems(B, ['please add dark mode']);
    const app = await start(PROJECT);
    const http = () => request(app.getHttpServer());

    const accepted = await http().post(`/cluster-jobs?project_id=${A}`).send({}).expect(202);
    const created = accepted.body as JobJson;
    expect(created).toMatchObject({ project_id: A, status: 'pending', trigger: 'api' });
    const done = await finished(app, A, created.id);
    expect(done).toMatchObject({
      project_id: A,
      status: 'succeeded',
      stats: { clustered_count: 2, new_clusters: 1 },
    });
    expect(Object.values(done.stats).every((v) => Number.isInteger(v))).toBe(true);

    // The record is the project's (§7), with project_id and the stats as integers in JSON.
    const hash = await redis.hgetall(`cluster_job:${A}:${created.id}`);
    expect(hash).toMatchObject({ id: created.id, project_id: A, status: 'succeeded' });
    const stored = JSON.parse(hash.stats) as Record<string, unknown>;
    expect(stored).toEqual(done.stats);
    expect(Object.values(stored).every((v) => Number.isInteger(v))).toBe(true);
    expect(await redis.zscore(`cluster_jobs:${A}:recent`, created.id)).not.toBeNull();
    expect(await redis.exists(JobKeys.job(created.id), `cluster_job:${B}:${created.id}`)).toBe(0);

    // A's items were clustered; B's still wait, and B has no clusters.
    expect(await redis.scard(`feedback:unclustered:${A}`)).toBe(0);
    for (const id of mine)
      expect(await redis.hget(`feedback:${A}:${id}`, 'cluster_id')).toBeTruthy();
    expect((await redis.smembers(`feedback:unclustered:${B}`)).sort()).toEqual(theirs.sort());
    expect(await redis.exists(`clusters:${B}:all`)).toBe(0);

    // Another project does not see the job.
    await http().get(`/cluster-jobs/${created.id}?project_id=${B}`).expect(404);
    const listedB = await http().get(`/cluster-jobs?project_id=${B}`).expect(200);
    expect(listedB.body).toEqual({ items: [], next_cursor: null });
    const listedA = await http().get(`/cluster-jobs?project_id=${A}`).expect(200);
    expect((listedA.body as { items: JobJson[] }).items).toEqual([
      expect.objectContaining({ id: created.id, project_id: A }),
    ]);
    // The project is now a known one (its scheduled sweeps).
    expect(await redis.sismember(SharedKeys.projects, A)).toBe(1);
  });

  it('drops a dispatch entry that names no project and goes on with the next', async () => {
    const [waiting] = await writeItems(A, ['payment fails at checkout']);
    const app = await start(PROJECT);
    await redis.xadd(JOB_STREAM, '*', 'job_id', randomUUID());
    await eventually(async () => ((await redis.xlen(JOB_STREAM)) === 0 ? true : undefined));
    // The consumer went on: a valid entry after it runs.
    const { body } = await request(app.getHttpServer())
      .post(`/cluster-jobs?project_id=${A}`)
      .send({})
      .expect(202);
    expect(await finished(app, A, (body as JobJson).id)).toMatchObject({ status: 'succeeded' });
    expect(await redis.hget(`feedback:${A}:${waiting}`, 'cluster_id')).toBeTruthy();
  });

  it("serves a project's clusters with its feedback, and answers 404 to another project", async () => {
    const ids = await writeItems(A, ['payment fails at checkout', 'payment declined error']);
    const app = await start(PROJECT);
    const http = () => request(app.getHttpServer());
    const { body } = await http().post(`/clusters/run?project_id=${A}`).send({}).expect(202);
    await finished(app, A, (body as JobJson).id);

    const listed = await http().get(`/clusters?project_id=${A}`).expect(200);
    const clusters = (listed.body as { items: ClusterJson[] }).items;
    expect(clusters).toEqual([expect.objectContaining({ project_id: A, size: 2 })]);
    const [cluster] = clusters;

    const detail = await http().get(`/clusters/${cluster.id}?project_id=${A}`).expect(200);
    const read = detail.body as ClusterJson;
    expect(read).toMatchObject({ id: cluster.id, project_id: A, size: 2 });
    expect((read.feedback ?? []).map((f) => f.id).sort()).toEqual([...ids].sort());
    for (const item of read.feedback ?? []) {
      expect(item).toMatchObject({ project_id: A, cluster_id: cluster.id });
    }

    await http().get(`/clusters/${cluster.id}?project_id=${B}`).expect(404);
    const other = await http().get(`/clusters?project_id=${B}`).expect(200);
    expect(other.body).toEqual({ items: [], next_cursor: null });
  });

  it('dispatches one scheduled sweep per known project, skipping a project whose sweep runs', async () => {
    await redis.sadd(SharedKeys.projects, A, B);
    // B's sweep is running somewhere: its own lock is held.
    await redis.set(Keyspace.project(B).service.sweepLock, 'another-replica', 'PX', 60_000);
    await start({
      ...PROJECT,
      JOBS_CONSUMER_ENABLED: 'false',
      SWEEP_ENABLED: 'true',
      SWEEP_CRON: '* * * * * *',
    });

    const [jobId] = await eventually(async () => {
      const recent = await redis.zrange(`cluster_jobs:${A}:recent`, 0, -1);
      return recent.length > 0 ? recent : undefined;
    });
    expect(await redis.hgetall(`cluster_job:${A}:${jobId}`)).toMatchObject({
      project_id: A,
      trigger: 'schedule',
      mode: 'full',
    });
    const entries = await redis.xrange(JOB_STREAM, '-', '+');
    expect(entries.map(([, fields]) => fields)).toContainEqual(['job_id', jobId, 'project_id', A]);
    expect(await redis.exists(`cluster_jobs:${B}:recent`, JobKeys.recent)).toBe(0);
  });

  it('documents project_id on every route of the OpenAPI document', async () => {
    const app = await start({ ...PROJECT, JOBS_CONSUMER_ENABLED: 'false' });
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    const paths = (body as { paths: Record<string, Record<string, { parameters?: unknown[] }>> })
      .paths;
    const routes: Array<[string, string]> = [
      ['/clusters', 'get'],
      ['/clusters/{id}', 'get'],
      ['/cluster-jobs', 'get'],
      ['/cluster-jobs', 'post'],
      ['/cluster-jobs/{id}', 'get'],
      ['/clusters/run', 'post'],
    ];
    for (const [path, method] of routes) {
      expect({ path, method, parameters: paths[path][method].parameters }).toEqual({
        path,
        method,
        parameters: expect.arrayContaining([
          expect.objectContaining({ name: 'project_id', in: 'query' }),
        ]),
      });
    }
  });

  it('ignores project_id in the flat layout: one implicit project, flat keys', async () => {
    const app = await start({ JOBS_CONSUMER_ENABLED: 'false' });
    const http = () => request(app.getHttpServer());
    const { body } = await http().post(`/cluster-jobs?project_id=${A}`).send({}).expect(202);
    const job = body as JobJson;
    expect(job).not.toHaveProperty('project_id');
    expect(await redis.hget(JobKeys.job(job.id), 'status')).toBe('pending');
    expect(await redis.exists(`cluster_job:${A}:${job.id}`)).toBe(0);
    await http().get(`/cluster-jobs/${job.id}?project_id=${B}`).expect(200);
    await http().get(`/clusters?project_id=${B}`).expect(200);
    const [[, fields]] = await redis.xrange(JOB_STREAM, '-', '+');
    expect(fields).toEqual(['job_id', job.id]);
  });
});
