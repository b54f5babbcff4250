import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { EXIT_SUCCEEDED, runOneShotJob } from '../../src/cli/run-job';
import { ClusterJobRepository } from '../../src/jobs/cluster-job.repository';
import { newClusterJob } from '../../src/jobs/job-data';
import { JOB_STREAM } from '../../src/jobs/jobs.constants';
import { JobKeys } from '../../src/redis/keys';
import { Keyspace, SharedKeys } from '../../src/redis/keyspace';
import { closeTestRedis, openTestRedis, redisUrl } from '../support/test-redis';

/** This spec's database on the real Redis (the jobs range); flushed around every test. */
const DB = 4;
const P = '7d0c1e2f-aaaa-4bbb-8ccc-0123456789ab';

describe('jobs of one project (KEY_LAYOUT=project)', () => {
  let redis: Redis;

  beforeEach(async () => {
    redis = await openTestRedis(DB);
  });

  afterEach(async () => {
    await closeTestRedis(redis);
  });

  it("re-dispatches a project's silent one-shot job with its project on the shared stream", async () => {
    const jobs = new ClusterJobRepository(redis, Keyspace.project(P));
    const job = await jobs.create(
      newClusterJob({ trigger: 'cli', mode: 'incremental', filters: {} }),
    );
    expect(job.project_id).toBe(P);
    expect(await jobs.claim(job.id, 1)).toBeDefined();

    expect(await jobs.redispatchSilent(Date.now() + 1, 10)).toEqual([job.id]);
    const entries = await redis.xrange(JOB_STREAM, '-', '+');
    expect(entries.map(([, fields]) => fields)).toEqual([['job_id', job.id, 'project_id', P]]);
    expect(await redis.zcard(Keyspace.project(P).service.jobHeartbeats)).toBe(0);
  });

  it("runs a one-shot job as the project's: its record under the project, a known project", async () => {
    const jobId = randomUUID();
    const saved = { ...process.env };
    Object.assign(process.env, {
      NODE_ENV: 'test',
      REDIS_URL: redisUrl(DB),
      LOG_LEVEL: 'silent',
      KEY_LAYOUT: 'project',
    });
    let code: number;
    try {
      code = await runOneShotJob(jobId, 'incremental', P);
    } finally {
      process.env = saved;
    }

    expect(code).toBe(EXIT_SUCCEEDED);
    const record = await redis.hgetall(`cluster_job:${P}:${jobId}`);
    expect(record).toMatchObject({ id: jobId, project_id: P, trigger: 'cli', status: 'succeeded' });
    const stats = JSON.parse(record.stats) as Record<string, unknown>;
    expect(Object.values(stats).every((v) => Number.isInteger(v))).toBe(true);
    expect(await redis.exists(JobKeys.job(jobId))).toBe(0);
    expect(await redis.sismember(SharedKeys.projects, P)).toBe(1);
  }, 60_000);
});
