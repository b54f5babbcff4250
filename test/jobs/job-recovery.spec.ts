import { Keyspace } from '../../src/redis/keyspace';
import { once } from 'node:events';
import Redis from 'ioredis';
import { startService } from '../../scripts/lib/service-process';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { ClusterJobRepository } from '../../src/jobs/cluster-job.repository';
import { emptyJobStats, newClusterJob } from '../../src/jobs/job-data';
import { JOB_CONSUMER_GROUP, JOB_STREAM } from '../../src/jobs/jobs.constants';
import { FeedbackKeys, JobKeys, ServiceKeys } from '../../src/redis/keys';
import { contractViolations } from '../support/contract-invariants';
import { manyItems } from '../support/many-items';
import { closeTestRedis, openTestRedis, redisUrl, waitFor } from '../support/test-redis';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 4;

async function jobsWith(redis: Redis, field: string, value: string) {
  const ids = await redis.zrange(JobKeys.recent, 0, -1);
  const jobs = await Promise.all(ids.map((id) => redis.hgetall(JobKeys.job(id))));
  return jobs.filter((j) => j[field] === value);
}

describe('job records: owners, reclaiming, a lost group', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(DB)));
  afterEach(async () => closeTestRedis(redis));

  it('finishes a job claimed twice once: the stale owner is refused, a finished job not restarted', async () => {
    const jobs = new ClusterJobRepository(redis, Keyspace.flat());
    const job = newClusterJob({ trigger: 'api', mode: 'incremental', filters: {} });
    await jobs.create(job);

    const stale = await jobs.claim(job.id, 1);
    const current = await jobs.claim(job.id, 2); // the first owner stalled; another took over
    expect(stale).toBeDefined();
    expect(current).toBeDefined();
    const stats = { ...emptyJobStats(), clustered_count: 7 };

    expect(await jobs.saveStats(job.id, stale!, stats)).toBe(false);
    expect(await jobs.finish(job.id, stale!, { stats, error: 'stale outcome' })).toBe(false);
    expect(await jobs.finish(job.id, current!, { stats })).toBe(true);
    // Finished once: no second outcome, not even from the owner, and no restart.
    expect(await jobs.finish(job.id, current!, { stats, error: 'second outcome' })).toBe(false);
    expect(await jobs.giveUp(job.id, 'abandoned')).toBe(false);
    expect(await jobs.claim(job.id, 3)).toBeUndefined();
    expect(await jobs.get(job.id)).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      stats: { clustered_count: 7 },
    });
    expect(await redis.hget(JobKeys.job(job.id), 'error')).toBeNull();
    expect(await redis.zscore(ServiceKeys.jobHeartbeats, job.id)).toBeNull();
    // An unknown job cannot be claimed (nor created by a claim).
    expect(await jobs.claim('00000000-0000-4000-8000-000000000000', 1)).toBeUndefined();
    expect(await redis.exists(JobKeys.job('00000000-0000-4000-8000-000000000000'))).toBe(0);
  });

  it('hands a one-shot job whose owner fell silent to the job stream again, once', async () => {
    const jobs = new ClusterJobRepository(redis, Keyspace.flat());
    const cli = newClusterJob({ trigger: 'cli', mode: 'incremental', filters: {} });
    const api = newClusterJob({ trigger: 'api', mode: 'incremental', filters: {} });
    await jobs.create(cli);
    await jobs.create(api);
    const owner = await jobs.claim(cli.id, 1);
    await jobs.claim(api.id, 1);
    expect(await jobs.heartbeat(cli.id, owner!)).toBe(true);
    expect(await jobs.heartbeat(cli.id, 'not-the-owner')).toBe(false);

    // Alive: its heartbeat is newer than the cutoff.
    expect(await jobs.redispatchSilent(Date.now() - 60_000, 10)).toEqual([]);
    // Silent: handed on once (the API job is reclaimed through its own dispatch entry).
    const cutoff = Date.now() + 1;
    expect(await jobs.redispatchSilent(cutoff, 10)).toEqual([cli.id]);
    expect(await jobs.redispatchSilent(cutoff, 10)).toEqual([]);
    const entries = await redis.xrange(JOB_STREAM, '-', '+');
    expect(entries.map(([, fields]) => fields)).toEqual([['job_id', cli.id]]);
  });

  it('reclaims a scheduled sweep whose replica was killed (kill -9) mid-sweep', async () => {
    const writer = new FeedbackWriter(redis, Keyspace.flat());
    const items = await writer.writeMany(manyItems(1500), { emitEvent: false });
    const env = {
      CONSUMER_ENABLED: 'false',
      JOB_CLAIM_IDLE_MS: '1000',
      BATCH_MAX_ITEMS: '50',
    };
    const doomed = await startService({
      redisUrl: redisUrl(DB),
      env: { ...env, SWEEP_ENABLED: 'true', SWEEP_CRON: '* * * * * *' },
    });
    await waitFor(
      async () =>
        (await jobsWith(redis, 'status', 'running')).length > 0 &&
        (await redis.scard(FeedbackKeys.unclustered)) < items.length,
      60_000,
      'a scheduled sweep to be under way',
    );
    doomed.child.kill('SIGKILL');
    await once(doomed.child, 'exit');
    const [killed] = await jobsWith(redis, 'status', 'running');
    expect(killed).toMatchObject({ trigger: 'schedule', mode: 'full', attempts: '1' });

    const survivor = await startService({
      redisUrl: redisUrl(DB),
      env: { ...env, SWEEP_ENABLED: 'false' },
    });
    try {
      await waitFor(
        async () => (await redis.hget(JobKeys.job(killed.id), 'status')) === 'succeeded',
        90_000,
        'the survivor to run the sweep again',
      );
      await waitFor(
        async () =>
          (await jobsWith(redis, 'status', 'running')).length === 0 &&
          (await jobsWith(redis, 'status', 'pending')).length === 0,
        90_000,
        'no job left unfinished',
      );
    } finally {
      await survivor.stop();
    }
    expect(await redis.hget(JobKeys.job(killed.id), 'attempts')).toBe('2');
    expect(await redis.scard(FeedbackKeys.unclustered)).toBe(0);
    expect(await contractViolations(redis)).toEqual([]);
    const [pending] = (await redis.xpending(JOB_STREAM, JOB_CONSUMER_GROUP)) as [number];
    expect(pending).toBe(0);
  }, 240_000);

  it('keeps running jobs and the stream after a FLUSHDB: both consumers recreate their groups', async () => {
    const service = await startService({ redisUrl: redisUrl(DB), env: { SWEEP_ENABLED: 'false' } });
    try {
      await waitFor(async () => (await redis.exists(JOB_STREAM, FeedbackKeys.events)) === 2);
      await redis.flushdb(); // a failover to an empty replica looks the same

      const writer = new FeedbackWriter(redis, Keyspace.flat());
      const [announced] = await writer.writeMany(manyItems(1));
      const [silent] = await writer.writeMany(manyItems(2).slice(1), { emitEvent: false });
      if (!announced.ok || !silent.ok) throw new Error('could not write the items');
      await waitFor(
        async () => (await redis.hget(`feedback:${announced.id}`, 'clustered')) === 'true',
        30_000,
        'the event consumer to read again',
      );
      const response = await fetch(`${service.baseUrl}/cluster-jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const { id } = (await response.json()) as { id: string };
      await waitFor(
        async () => (await redis.hget(JobKeys.job(id), 'status')) === 'succeeded',
        30_000,
        'the job consumer to read again',
      );
      expect(await redis.hget(`feedback:${silent.id}`, 'clustered')).toBe('true');
      expect(await contractViolations(redis)).toEqual([]);
    } finally {
      await service.stop();
    }
  }, 90_000);
});
