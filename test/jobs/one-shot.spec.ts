import { Keyspace } from '../../src/redis/keyspace';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ClusterJobRepository } from '../../src/jobs/cluster-job.repository';
import { newClusterJob } from '../../src/jobs/job-data';
import { JOB_STREAM } from '../../src/jobs/jobs.constants';
import { FeedbackKeys, JobKeys, ServiceKeys } from '../../src/redis/keys';
import { REDIS_HOST_URL } from '../support/test-app';
import { startService } from '../../scripts/lib/service-process';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { contractViolations } from '../support/contract-invariants';
import { manyItems } from '../support/many-items';
import { openTestRedis, waitFor } from '../support/test-redis';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 5;
const ROOT = join(__dirname, '..', '..');

/** Starts the service's entry point as operators do, in one-shot mode; `exited` resolves with its exit. */
function spawnMain(env: Record<string, string>): {
  child: ChildProcess;
  exited: Promise<{ code: number | null; stderr: string }>;
} {
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
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
  return { child, exited };
}

const runMain = (env: Record<string, string>) => spawnMain(env).exited;

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
    await new ClusterJobRepository(redis, Keyspace.flat()).create(job);
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

  it('stops on SIGTERM within SHUTDOWN_TIMEOUT_MS, marks the job failed and exits non-zero', async () => {
    const items = manyItems(3000);
    await new FeedbackWriter(redis, Keyspace.flat()).writeMany(items, { emitEvent: false });
    const jobId = randomUUID();
    const { child, exited } = spawnMain({
      CLUSTER_JOB_ID: jobId,
      BATCH_MAX_ITEMS: '50',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    await waitFor(
      async () => (await redis.scard(FeedbackKeys.unclustered)) < items.length,
      60_000,
      'the job to be under way',
    );

    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const { code } = await exited;

    expect(Date.now() - signalledAt).toBeLessThan(5000 + 2000);
    expect(code).toBe(1);
    const record = await redis.hgetall(JobKeys.job(jobId));
    expect(record).toMatchObject({ status: 'failed', trigger: 'cli' });
    expect(record.error).toMatch(/interrupted by SIGTERM/);
    expect(record.finished_at).toEqual(expect.any(String));
    // Stopped between chunks: what it did is whole, the rest still waits.
    expect(await redis.scard(FeedbackKeys.unclustered)).toBeGreaterThan(0);
    expect(await contractViolations(redis)).toEqual([]);
  }, 90_000);

  it('leaves a job killed outright (kill -9) to a service, which finishes it', async () => {
    await new FeedbackWriter(redis, Keyspace.flat()).writeMany(manyItems(3000), {
      emitEvent: false,
    });
    const jobId = randomUUID();
    const { child, exited } = spawnMain({ CLUSTER_JOB_ID: jobId, BATCH_MAX_ITEMS: '50' });
    await waitFor(
      async () => (await redis.scard(FeedbackKeys.unclustered)) < 3000,
      60_000,
      'the job to be under way',
    );
    child.kill('SIGKILL');
    await exited;
    expect(await redis.hget(JobKeys.job(jobId), 'status')).toBe('running');

    const service = await startService({
      redisUrl: `${REDIS_HOST_URL}/${DB}`,
      env: { CONSUMER_ENABLED: 'false', SWEEP_ENABLED: 'false', JOB_CLAIM_IDLE_MS: '1000' },
    });
    try {
      await waitFor(
        async () => (await redis.hget(JobKeys.job(jobId), 'status')) === 'succeeded',
        90_000,
        'a replica to finish the silent job',
      );
    } finally {
      await service.stop();
    }
    expect(await redis.hgetall(JobKeys.job(jobId))).toMatchObject({
      trigger: 'cli',
      attempts: '2',
    });
    expect(await redis.scard(FeedbackKeys.unclustered)).toBe(0);
    expect(await redis.zcard(ServiceKeys.jobHeartbeats)).toBe(0);
    expect(await contractViolations(redis)).toEqual([]);
  }, 150_000);
});
