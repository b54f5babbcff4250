import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { ClusterJobRepository } from '../../src/jobs/cluster-job.repository';
import { ClusterJob, emptyJobStats } from '../../src/jobs/job-data';
import { JobKeys } from '../../src/redis/keys';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const DB = 5;
const DAY = 86_400;

function job(id: string, createdSecondsAgo: number, status: ClusterJob['status']): ClusterJob {
  return {
    id,
    status,
    trigger: 'api',
    mode: 'incremental',
    filters: {},
    stats: emptyJobStats(),
    created_at: new Date(Date.now() - createdSecondsAgo * 1000).toISOString(),
    attempts: 0,
  };
}

describe('job record retention', () => {
  let redis: Redis;
  let jobs: ClusterJobRepository;
  beforeEach(async () => {
    redis = await openTestRedis(DB);
    jobs = new ClusterJobRepository(redis, Keyspace.flat());
  });
  afterEach(async () => closeTestRedis(redis));

  it('removes finished jobs older than the cutoff, never pending or running ones', async () => {
    await jobs.create(job('old-done', 40 * DAY, 'succeeded'));
    await jobs.create(job('old-failed', 35 * DAY, 'failed'));
    await jobs.create(job('old-running', 40 * DAY, 'running'));
    await jobs.create(job('old-pending', 40 * DAY, 'pending'));
    await jobs.create(job('recent-done', 2 * DAY, 'succeeded'));

    const cutoff = Math.floor(Date.now() / 1000) - 30 * DAY;
    expect(await jobs.pruneFinished(cutoff, 100)).toBe(2);

    expect((await redis.zrange(JobKeys.recent, 0, -1)).sort()).toEqual([
      'old-pending',
      'old-running',
      'recent-done',
    ]);
    expect(await redis.exists(JobKeys.job('old-done'), JobKeys.job('old-failed'))).toBe(0);
    expect(await jobs.get('recent-done')).toBeDefined();
  });

  it('removes at most `limit` records per call', async () => {
    for (let i = 0; i < 5; i++) await jobs.create(job(`old-${i}`, 40 * DAY, 'succeeded'));
    const cutoff = Math.floor(Date.now() / 1000) - 30 * DAY;
    expect(await jobs.pruneFinished(cutoff, 3)).toBe(3);
    expect(await redis.zcard(JobKeys.recent)).toBe(2);
  });
});
