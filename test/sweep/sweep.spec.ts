import { Keyspace } from '../../src/redis/keyspace';
import { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { ItemVectors } from '../../src/item-vectors/item-vectors';
import { TopicEmbedder } from '../support/topic-embedder';
import { cosine } from '../../src/math/vector-math';
import { DistributedLock } from '../../src/redis/distributed-lock';
import { ClusterKeys, JobKeys, ServiceKeys } from '../../src/redis/keys';
import { SweepLock } from '../../src/sweep/sweep-lock';
const SWEEP_LOCK_KEY = Keyspace.flat().service.sweepLock;
import { expectClustered } from '../support/invariants';
import { useServiceFixture } from '../support/service-fixture';
import { eventually, REDIS_HOST_URL } from '../support/test-app';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 6;

interface JobJson {
  id: string;
  status: string;
  trigger: string;
  mode: string;
  stats: Record<string, number>;
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

describe('full sweeps', () => {
  const fixture = useServiceFixture(DB);
  const replica = (env?: Record<string, string>) => fixture.start(env);
  const stop = (app: INestApplication) => fixture.stop(app);

  async function write(source: string, title: string): Promise<string> {
    return (await fixture.writer.write({ source, title }, { emitEvent: false })).id;
  }

  async function runJob(app: INestApplication, body: object = {}): Promise<JobJson> {
    const { body: accepted } = await request(app.getHttpServer())
      .post('/cluster-jobs')
      .send(body)
      .expect(202);
    return eventually(async () => {
      const { body: job } = await request(app.getHttpServer()).get(
        `/cluster-jobs/${(accepted as JobJson).id}`,
      );
      const current = job as JobJson;
      return current.status === 'succeeded' || current.status === 'failed' ? current : undefined;
    });
  }

  /** The item's vector as the service sees it (recomputed from its text: none is stored). */
  async function itemVector(id: string): Promise<Float32Array> {
    const vectors = new ItemVectors(
      fixture.redis,
      Keyspace.flat(),
      new TopicEmbedder(),
      'auto',
      4000,
    );
    const vector = (await vectors.load([id])).get(id);
    if (!vector) throw new Error(`no vector for ${id}`);
    return vector;
  }

  async function storedCentroid(clusterId: string): Promise<Float32Array> {
    return Float32Array.from(
      JSON.parse(
        (await fixture.redis.hget(ClusterKeys.cluster(clusterId), 'centroid')) ?? '[]',
      ) as number[],
    );
  }

  async function scheduledJobs(): Promise<JobJson[]> {
    const ids = await fixture.redis.zrange(JobKeys.recent, 0, -1);
    const jobs = await Promise.all(ids.map((id) => fixture.redis.hgetall(JobKeys.job(id))));
    return jobs.filter((j) => j.trigger === 'schedule') as unknown as JobJson[];
  }

  it('merges two clusters that were created apart, and both old ids still resolve', async () => {
    // A strict join threshold makes near-identical reports found clusters of their own.
    const app = await replica({ JOIN_THRESHOLD: '0.995', MERGE_THRESHOLD: '0.8' });
    const first = await write('reddit', 'payment fails at checkout');
    await runJob(app);
    const second = await write('sentry', 'payment declined by the bank');
    const other = await write('reddit', 'please add a dark mode');
    await runJob(app);
    const before = await expectClustered(fixture.redis, [first, second, other]);
    const [idA, idB] = [before.get(first) as string, before.get(second) as string];
    expect(idA).not.toBe(idB);

    const sweep = await runJob(app, { mode: 'full' });

    expect(sweep).toMatchObject({
      status: 'succeeded',
      mode: 'full',
      stats: { merged_clusters: 1 },
    });
    expect(sweep.stats.refreshed_summaries).toBeGreaterThanOrEqual(1);
    const after = await expectClustered(fixture.redis, [first, second, other]);
    const survivor = after.get(first) as string;
    expect(after.get(second)).toBe(survivor);
    expect([idA, idB]).toContain(survivor);
    const absorbed = survivor === idA ? idB : idA;
    expect(await fixture.redis.smembers(ClusterKeys.all)).toEqual(
      expect.arrayContaining([survivor, after.get(other)]),
    );
    expect(await fixture.redis.scard(ClusterKeys.all)).toBe(2);
    expect(
      await fixture.redis.hmget(ClusterKeys.cluster(absorbed), 'status', 'merged_into'),
    ).toEqual(['merged', survivor]);
    expect(await fixture.redis.exists(ClusterKeys.items(absorbed))).toBe(0);
    const survivorHash = await fixture.redis.hgetall(ClusterKeys.cluster(survivor));
    expect(JSON.parse(survivorHash.sources)).toEqual(['reddit', 'sentry']);
    const [firstVector, secondVector] = [await itemVector(first), await itemVector(second)];
    const mean = firstVector.map((x, i) => (x + secondVector[i]) / 2);
    expect(cosine(await storedCentroid(survivor), mean)).toBeCloseTo(1, 4);
    // Every replica's index learns of both through the change feed.
    const seq = Number(await fixture.redis.get(ServiceKeys.indexSeq));
    const changed = await fixture.redis.zrangebyscore(ServiceKeys.indexChanges, seq - 1, seq);
    expect(changed.sort()).toEqual([absorbed, survivor].sort());

    const viaAbsorbed = await request(app.getHttpServer()).get(`/clusters/${absorbed}`).expect(200);
    expect(viaAbsorbed.body).toMatchObject({ id: survivor, redirected_from: absorbed, size: 2 });
    const feedbackIds = (viaAbsorbed.body as { feedback: Array<{ id: string }> }).feedback.map(
      (f) => f.id,
    );
    expect(feedbackIds.sort()).toEqual([first, second].sort());
    const viaSurvivor = await request(app.getHttpServer()).get(`/clusters/${survivor}`).expect(200);
    expect(viaSurvivor.body).toMatchObject({ id: survivor, size: 2 });
    expect(viaSurvivor.body).not.toHaveProperty('redirected_from');
  });

  it('moves an item that sits far better in another cluster, keeping every invariant', async () => {
    // Lax thresholds put a dark-mode report into the payment cluster...
    const lax = await replica({ JOIN_THRESHOLD: '-1', ANCHOR_THRESHOLD: '-1' });
    const payment = await write('sentry', 'payment declined');
    await runJob(lax);
    const stray = await write('reddit', 'dark mode for the app');
    await runJob(lax);
    await stop(lax);
    // ...and with the usual ones the next dark-mode report founds a cluster of its own.
    const app = await replica();
    const dark = await write('reddit', 'dark theme please');
    await runJob(app);
    const before = await expectClustered(fixture.redis, [payment, stray, dark]);
    const paymentCluster = before.get(payment) as string;
    const darkCluster = before.get(dark) as string;
    expect(before.get(stray)).toBe(paymentCluster);
    expect(darkCluster).not.toBe(paymentCluster);

    const sweep = await runJob(app, { mode: 'full' });

    expect(sweep.stats).toMatchObject({ moved_items: 1, merged_clusters: 0 });
    const after = await expectClustered(fixture.redis, [payment, stray, dark]);
    expect(after.get(stray)).toBe(darkCluster);
    expect(after.get(payment)).toBe(paymentCluster);
    expect(
      JSON.parse((await fixture.redis.hget(ClusterKeys.cluster(paymentCluster), 'sources')) ?? ''),
    ).toEqual(['sentry']);
    expect(
      JSON.parse((await fixture.redis.hget(ClusterKeys.cluster(darkCluster), 'sources')) ?? ''),
    ).toEqual(['reddit']);
    expect(cosine(await storedCentroid(paymentCluster), await itemVector(payment))).toBeCloseTo(
      1,
      4,
    );
    const strayVector = await itemVector(stray);
    const darkVector = await itemVector(dark);
    const mean = strayVector.map((x, i) => (x + darkVector[i]) / 2);
    expect(cosine(await storedCentroid(darkCluster), mean)).toBeCloseTo(1, 4);
  });

  it('runs one sweep per tick when the schedules of two replicas fire together', async () => {
    const schedule = { SWEEP_ENABLED: 'true', SWEEP_CRON: '* * * * * *' };
    const [a, b] = await Promise.all([replica(schedule), replica(schedule)]);
    await new Promise((resolve) => setTimeout(resolve, 2600));
    await Promise.all([stop(a), stop(b)]);

    const jobs = await scheduledJobs();
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    const seconds = jobs.map((j) => Math.round(Date.parse(j.created_at) / 1000));
    expect(new Set(seconds).size).toBe(jobs.length);
    for (const job of jobs) expect(job).toMatchObject({ status: 'succeeded', mode: 'full' });
    const runs = jobs
      .map((j) => [Date.parse(j.started_at ?? ''), Date.parse(j.finished_at ?? '')])
      .sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < runs.length; i++) expect(runs[i][0]).toBeGreaterThanOrEqual(runs[i - 1][1]);
  });

  it('sweeps again once the lock of a holder that died has expired', async () => {
    const doomed = new Redis(`${REDIS_HOST_URL}/${DB}`);
    const ttlMs = 1500;
    const held = await new DistributedLock(doomed, SWEEP_LOCK_KEY, ttlMs).tryAcquire();
    const acquiredAt = Date.now();
    expect(held).toBeDefined();
    doomed.disconnect(); // the holder dies without releasing

    await replica({ SWEEP_ENABLED: 'true', SWEEP_CRON: '* * * * * *' });
    const [first] = await eventually(async () => {
      const jobs = await scheduledJobs();
      return jobs.length > 0 ? jobs : undefined;
    });

    // Ticks while the dead holder's lock was alive were skipped.
    expect(Date.parse(first.created_at)).toBeGreaterThanOrEqual(acquiredAt + ttlMs - 50);
  });

  it('keeps the lock while its holder lives, and no holder can release another’s', async () => {
    const app = await replica({ SWEEP_LOCK_TTL_MS: '1000' });
    const lock = app.get(SweepLock);
    const lease = await lock.tryAcquire();
    expect(lease).toBeDefined();

    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect(lease?.lost).toBe(false);
    expect(await lock.tryAcquire()).toBeUndefined();

    // The lock vanishes (say, a failover) and another holder takes it: the old lease's
    // release must leave the new holder's lock alone, and the old lease knows it lost it.
    await fixture.redis.del(SWEEP_LOCK_KEY);
    const other = await lock.tryAcquire();
    expect(other).toBeDefined();
    await eventually(async () => (lease?.lost ? true : undefined), 2000);
    await lease?.release();
    expect(await lock.tryAcquire()).toBeUndefined();
    await other?.release();
    const next = await lock.tryAcquire();
    expect(next).toBeDefined();
    await next?.release();
  });
});
