import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ClusterJobRepository } from '../../src/jobs/cluster-job.repository';
import { newClusterJob } from '../../src/jobs/job-data';
import { JOB_STREAM } from '../../src/jobs/jobs.constants';
import { FeedbackKeys, JobKeys, ServiceKeys } from '../../src/redis/keys';
import { REDIS_HOST_URL } from '../support/test-app';
import { openTestRedis } from '../support/test-redis';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 5;
const ROOT = join(__dirname, '..', '..');

/** Runs the service's entry point as operators do, in one-shot mode; resolves with its exit. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join('src', 'main.ts')],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          REDIS_URL: `${REDIS_HOST_URL}/${DB}`,
          LOG_LEVEL: 'silent',
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('one-shot mode (CLUSTER_JOB_ID)', () => {
  let redis: Redis;

  beforeEach(async () => {
    redis = await openTestRedis(DB);
  });

  afterEach(async () => {
    await redis.flushdb();
    await redis.quit();
  });

  it('creates and runs a job it does not know, exits 0, and starts no server or consumer', async () => {
    const jobId = randomUUID();
    // Runs beside it: an invalid configuration stops start-up with a message naming the variable.
    const [run, misconfigured] = await Promise.all([
      runMain({ CLUSTER_JOB_ID: jobId }),
      runMain({ CLUSTER_JOB_ID: 'not-a-uuid', REDIS_URL: 'redis://127.0.0.1:1/0' }),
    ]);

    expect(run).toEqual({ code: 0, stderr: '' });
    const job = await redis.hgetall(JobKeys.job(jobId));
    expect(job).toMatchObject({
      id: jobId,
      status: 'succeeded',
      trigger: 'cli',
      mode: 'incremental',
    });
    expect(JSON.parse(job.stats)).toMatchObject({ clustered_count: 0, failed_embeddings: 0 });
    expect(await redis.zscore(JobKeys.recent, jobId)).not.toBeNull();
    // No consumer ever created its group (and with it the streams).
    expect(await redis.exists(FeedbackKeys.events, JOB_STREAM)).toBe(0);

    expect(misconfigured.code).not.toBe(0);
    expect(misconfigured.stderr).toMatch(/CLUSTER_JOB_ID: must be a UUID/);
  });

  it('runs an existing job, records its failure and exits non-zero', async () => {
    const job = newClusterJob({ trigger: 'api', mode: 'incremental', filters: {} });
    await new ClusterJobRepository(redis).create(job);
    await redis.sadd(FeedbackKeys.unclustered, randomUUID());
    // Broken state the job cannot read past: the parked-items hash holds a string.
    await redis.set(ServiceKeys.parked, 'not a hash');

    const run = await runMain({ CLUSTER_JOB_ID: job.id });

    expect(run.code).toBe(1);
    const record = await redis.hgetall(JobKeys.job(job.id));
    expect(record).toMatchObject({ status: 'failed', trigger: 'api', attempts: '1' });
    expect(record.error).toMatch(/WRONGTYPE/);
    expect(record.finished_at).toEqual(expect.any(String));
  });
});
