import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { ItemVectors } from '../../src/item-vectors/item-vectors';
import { cosine } from '../../src/math/vector-math';
import { Keyspace } from '../../src/redis/keyspace';
import { expectClustered } from '../support/invariants';
import { useServiceFixture } from '../support/service-fixture';
import { eventually } from '../support/test-app';
import { TopicEmbedder } from '../support/topic-embedder';

/** This spec's own database on the real Redis; flushed before and after every test. */
const DB = 14;
const TOKEN = 'control-secret-0123456789';
const auth = { Authorization: `Bearer ${TOKEN}` };
const flat = Keyspace.flat();

interface AuditJson {
  id: string;
  action: string;
  cluster_id: string;
  from_cluster_id: string;
  moved_items: number;
  item_ids?: string[];
}

describe('human control: merge, split, move', () => {
  const fixture = useServiceFixture(DB);
  const replica = (env: Record<string, string> = {}) => fixture.start({ API_TOKEN: TOKEN, ...env });

  async function write(source: string, title: string): Promise<string> {
    return (await fixture.writer.write({ source, title }, { emitEvent: false })).id;
  }

  async function runJob(app: INestApplication, body: object = {}) {
    const { body: accepted } = await request(app.getHttpServer())
      .post('/cluster-jobs')
      .set(auth)
      .send(body)
      .expect(202);
    return eventually(async () => {
      const { body: job } = await request(app.getHttpServer()).get(
        `/cluster-jobs/${(accepted as { id: string }).id}`,
      );
      const current = job as { status: string; stats: Record<string, number> };
      return current.status === 'succeeded' || current.status === 'failed' ? current : undefined;
    });
  }

  async function itemVector(id: string): Promise<Float32Array> {
    const vectors = new ItemVectors(fixture.redis, flat, new TopicEmbedder(), 'auto', 4000);
    const vector = (await vectors.load([id])).get(id);
    if (!vector) throw new Error(`no vector for ${id}`);
    return vector;
  }

  const mean = (vectors: Float32Array[]) =>
    vectors[0].map((_, i) => vectors.reduce((sum, v) => sum + v[i], 0) / vectors.length);

  async function centroid(clusterId: string): Promise<Float32Array> {
    const json = await fixture.redis.hget(flat.clusters.cluster(clusterId), 'centroid');
    return Float32Array.from(JSON.parse(json ?? '[]') as number[]);
  }

  async function expectCentroidOf(clusterId: string, itemIds: string[]) {
    const vectors = await Promise.all(itemIds.map((id) => itemVector(id)));
    expect(cosine(await centroid(clusterId), mean(vectors))).toBeCloseTo(1, 5);
  }

  /** Clusters whose latest change is after `seq` in the change feed. */
  const changedSince = (seq: number) =>
    fixture.redis.zrangebyscore(flat.service.indexChanges, `(${seq}`, '+inf');
  const seqNow = async () => Number((await fixture.redis.get(flat.service.indexSeq)) ?? 0);

  /** Waits for the summary queue's worker to have summarised `clusterId` at `size` items. */
  const summarizedAt = (clusterId: string, size: number) =>
    eventually(async () => {
      const at = await fixture.redis.hget(flat.service.summarizedAt, clusterId);
      return at === String(size) ? true : undefined;
    });

  async function audit(app: INestApplication): Promise<AuditJson[]> {
    const { body } = await request(app.getHttpServer()).get('/audit').expect(200);
    return (body as { items: AuditJson[] }).items;
  }

  /** Three payment reports in clusters of their own (a strict join threshold) and a dark one. */
  async function separateClusters(app: INestApplication) {
    const ids = [
      await write('reddit', 'payment fails at checkout'),
      await write('sentry', 'payment declined by the bank'),
      await write('github', 'dark mode please'),
    ];
    await runJob(app);
    return { ids, placed: await expectClustered(fixture.redis, ids) };
  }

  it('merges a cluster into the one asked for, exactly, recorded and announced', async () => {
    const app = await replica({ JOIN_THRESHOLD: '0.995' });
    const { ids, placed } = await separateClusters(app);
    const [a, b] = [placed.get(ids[0]) as string, placed.get(ids[1]) as string];
    const seq = await seqNow();

    const { body } = await request(app.getHttpServer())
      .post(`/clusters/${a}/merge`)
      .set(auth)
      .send({ into: b })
      .expect(200);

    expect(body).toMatchObject({
      action: 'merge',
      cluster_id: b,
      from_cluster_id: a,
      moved_items: 1,
    });
    const after = await expectClustered(fixture.redis, ids);
    expect(after.get(ids[0])).toBe(b);
    expect(await fixture.redis.hmget(flat.clusters.cluster(a), 'status', 'merged_into')).toEqual([
      'merged',
      b,
    ]);
    expect(
      JSON.parse((await fixture.redis.hget(flat.clusters.cluster(b), 'sources')) ?? ''),
    ).toEqual(['reddit', 'sentry']);
    await expectCentroidOf(b, [ids[0], ids[1]]);
    expect((await changedSince(seq)).sort()).toEqual([a, b].sort());
    await summarizedAt(b, 2);
    expect(await audit(app)).toEqual([expect.objectContaining({ ...(body as AuditJson) })]);
    // The merged id answers with its survivor, as after a sweep's merge.
    await request(app.getHttpServer())
      .get(`/clusters/${a}`)
      .expect(200)
      .expect((res) => expect(res.body).toMatchObject({ id: b, size: 2 }));
  });

  it('refuses what it cannot do: no token, bad bodies, unknown ids, conflicts', async () => {
    const app = await replica({ JOIN_THRESHOLD: '0.995' });
    const { ids, placed } = await separateClusters(app);
    const [a, b] = [placed.get(ids[0]) as string, placed.get(ids[1]) as string];
    const server = app.getHttpServer();
    const post = (path: string, body: object) => request(server).post(path).set(auth).send(body);

    await request(server).post(`/clusters/${a}/merge`).send({ into: b }).expect(401);
    await request(server).post(`/feedback/${ids[0]}/move`).send({ cluster_id: b }).expect(401);
    await post(`/clusters/${a}/merge`, {}).expect(400);
    await post(`/clusters/${a}/merge`, { into: b, extra: 1 }).expect(400);
    await post(`/clusters/${a}/merge`, { into: 'no such:key' }).expect(400);
    await post(`/clusters/${a}/split`, { item_ids: [] }).expect(400);
    await post(`/clusters/${a}/split`, { item_ids: [ids[0], ids[0]] }).expect(400);
    await post(`/feedback/${ids[0]}/move`, { into: b }).expect(400);
    await post(`/clusters/nope/merge`, { into: b }).expect(404);
    await post(`/clusters/${a}/merge`, { into: 'nope' }).expect(404);
    await post(`/clusters/${a}/split`, { item_ids: ['nope'] }).expect(404);
    await post(`/feedback/nope/move`, { cluster_id: b }).expect(404);
    await post(`/feedback/${ids[0]}/move`, { cluster_id: 'nope' }).expect(404);
    await post(`/clusters/${a}/merge`, { into: a }).expect(409);
    // Not a member, all of its members, already there, a cluster's only item.
    await post(`/clusters/${a}/split`, { item_ids: [ids[1]] }).expect(409);
    await post(`/clusters/${a}/split`, { item_ids: [ids[0]] }).expect(409);
    await post(`/feedback/${ids[0]}/move`, { cluster_id: a }).expect(409);
    await post(`/feedback/${ids[0]}/move`, { cluster_id: b }).expect(409);
    await post(`/clusters/${a}/merge`, { into: b }).expect(200);
    // A merged cluster is not live any more.
    await post(`/clusters/${a}/merge`, { into: b }).expect(409);
    await post(`/feedback/${ids[2]}/move`, { cluster_id: a }).expect(409);

    expect(await audit(app)).toHaveLength(1);
    await expectClustered(fixture.redis, ids);
  });

  it('splits items off into a new cluster that no sweep merges back', async () => {
    // Lax thresholds put the payment reports (and a stray) into one cluster.
    const app = await replica({
      JOIN_THRESHOLD: '-1',
      ANCHOR_THRESHOLD: '-1',
      MERGE_THRESHOLD: '0.8',
    });
    const ids = [
      await write('reddit', 'payment fails at checkout'),
      await write('sentry', 'payment declined by the bank'),
      await write('github', 'payment page shows an error'),
    ];
    await runJob(app);
    const origin = (await expectClustered(fixture.redis, ids)).get(ids[0]) as string;
    const seq = await seqNow();

    const { body } = await request(app.getHttpServer())
      .post(`/clusters/${origin}/split`)
      .set(auth)
      .send({ item_ids: [ids[1], ids[2]] })
      .expect(200);

    const split = body as AuditJson;
    expect(split).toMatchObject({
      action: 'split',
      from_cluster_id: origin,
      moved_items: 2,
      item_ids: [ids[1], ids[2]],
    });
    const after = await expectClustered(fixture.redis, ids);
    expect(after.get(ids[0])).toBe(origin);
    expect(after.get(ids[1])).toBe(split.cluster_id);
    expect(after.get(ids[2])).toBe(split.cluster_id);
    const created = await fixture.redis.hgetall(flat.clusters.cluster(split.cluster_id));
    expect(created).toMatchObject({ id: split.cluster_id, status: 'new', size: '2' });
    expect(JSON.parse(created.sources)).toEqual(['github', 'sentry']);
    expect(
      JSON.parse((await fixture.redis.hget(flat.clusters.cluster(origin), 'sources')) ?? ''),
    ).toEqual(['reddit']);
    await expectCentroidOf(origin, [ids[0]]);
    await expectCentroidOf(split.cluster_id, [ids[1], ids[2]]);
    expect((await changedSince(seq)).sort()).toEqual([origin, split.cluster_id].sort());
    await summarizedAt(split.cluster_id, 2);
    await summarizedAt(origin, 1);
    await request(app.getHttpServer())
      .get(`/clusters/${split.cluster_id}`)
      .expect(200)
      .expect((res) => expect(res.body).toMatchObject({ size: 2 }));
    expect((await audit(app)).map((r) => r.action)).toEqual(['split']);

    // Near-duplicates by every rule a sweep applies: it would merge them (or absorb the small
    // one) if a person had not split them.
    const sweep = await runJob(app, { mode: 'full' });

    expect(sweep).toMatchObject({
      status: 'succeeded',
      stats: { merged_clusters: 0, absorbed_clusters: 0, moved_items: 0 },
    });
    expect(await expectClustered(fixture.redis, ids)).toEqual(after);
  });

  it('moves an item where a person puts it, and no sweep moves it back', async () => {
    // Lax thresholds put two payment reports and a dark-mode one into one cluster...
    const lax = await replica({ JOIN_THRESHOLD: '-1', ANCHOR_THRESHOLD: '-1' });
    const payment = await write('sentry', 'payment declined');
    const misplaced = await write('sentry', 'payment fails at checkout');
    await runJob(lax);
    const stray = await write('reddit', 'dark mode for the app');
    await runJob(lax);
    await fixture.stop(lax);
    // ...and with the usual ones dark-mode reports found a cluster of their own.
    const app = await replica();
    const dark = await write('reddit', 'dark theme please');
    const darker = await write('github', 'a dark mode would be nice');
    await runJob(app);
    const ids = [payment, misplaced, stray, dark, darker];
    const before = await expectClustered(fixture.redis, ids);
    const paymentCluster = before.get(payment) as string;
    const darkCluster = before.get(dark) as string;
    expect(before.get(misplaced)).toBe(paymentCluster);
    expect(before.get(darker)).toBe(darkCluster);
    const seq = await seqNow();

    // A person puts a payment report among the dark-mode ones (say, it mentions the theme).
    const { body } = await request(app.getHttpServer())
      .post(`/feedback/${misplaced}/move`)
      .set(auth)
      .send({ cluster_id: darkCluster })
      .expect(200);

    expect(body).toMatchObject({
      action: 'move',
      cluster_id: darkCluster,
      from_cluster_id: paymentCluster,
      moved_items: 1,
      item_ids: [misplaced],
    });
    const moved = await expectClustered(fixture.redis, ids);
    expect(moved.get(misplaced)).toBe(darkCluster);
    await expectCentroidOf(paymentCluster, [payment, stray]);
    await expectCentroidOf(darkCluster, [dark, darker, misplaced]);
    expect((await changedSince(seq)).sort()).toEqual([paymentCluster, darkCluster].sort());
    await summarizedAt(darkCluster, 3);
    expect((await audit(app)).map((r) => r.action)).toEqual(['move']);

    const sweep = await runJob(app, { mode: 'full' });

    // The sweep moves the stray dark-mode report, which nobody placed, but not the pinned one.
    expect(sweep.stats).toMatchObject({ moved_items: 1, merged_clusters: 0 });
    const after = await expectClustered(fixture.redis, ids);
    expect(after.get(stray)).toBe(darkCluster);
    expect(after.get(misplaced)).toBe(darkCluster);
    expect(after.get(payment)).toBe(paymentCluster);
  });

  it('works per project in the project layout, and never across projects', async () => {
    const P = '0b7e6f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
    const Q = 'clx0other0000project0001';
    const app = await replica({
      KEY_LAYOUT: 'project',
      CONSUMER_ENABLED: 'true',
      JOIN_THRESHOLD: '-1',
      ANCHOR_THRESHOLD: '-1',
    });
    const written: Record<string, string[]> = {};
    for (const pid of [P, Q]) {
      const writer = new FeedbackWriter(fixture.redis, Keyspace.project(pid));
      written[pid] = [];
      for (const title of ['payment declined', 'payment fails', 'payment page error']) {
        written[pid].push(
          (await writer.write({ source: 'manual', title }, { emitEvent: false })).id,
        );
      }
    }
    const clusterOf = (pid: string, id: string) =>
      fixture.redis.hget(Keyspace.project(pid).feedback.item(id), 'cluster_id');
    await eventually(async () => {
      for (const [pid, ids] of Object.entries(written))
        for (const id of ids) if (!(await clusterOf(pid, id))) return undefined;
      return true;
    }, 20_000);
    const [pCluster, qCluster] = [
      (await clusterOf(P, written[P][0])) as string,
      (await clusterOf(Q, written[Q][0])) as string,
    ];
    const server = app.getHttpServer();

    await request(server)
      .post(`/clusters/${pCluster}/split`)
      .set(auth)
      .send({ item_ids: [written[P][2]] })
      .expect(400)
      .expect((res) => expect(JSON.stringify(res.body)).toContain('project_id'));
    await request(server)
      .post(`/clusters/${qCluster}/split?project_id=${P}`)
      .set(auth)
      .send({ item_ids: [written[Q][2]] })
      .expect(404);
    const { body } = await request(server)
      .post(`/clusters/${pCluster}/split?project_id=${P}`)
      .set(auth)
      .send({ item_ids: [written[P][2]] })
      .expect(200);

    const created = (body as AuditJson).cluster_id;
    expect(await clusterOf(P, written[P][2])).toBe(created);
    const keys = Keyspace.project(P);
    expect(await fixture.redis.hget(keys.clusters.cluster(created), 'project_id')).toBe(P);
    expect(await fixture.redis.zscore(keys.clusters.all, created)).not.toBeNull();
    expect(JSON.parse((await fixture.redis.hget(keys.service.keptApart, created)) ?? '')).toEqual([
      pCluster,
    ]);
    const pAudit = await request(server).get(`/audit?project_id=${P}`).expect(200);
    expect((pAudit.body as { items: AuditJson[] }).items).toEqual([
      expect.objectContaining({ action: 'split', cluster_id: created }),
    ]);
    const qAudit = await request(server).get(`/audit?project_id=${Q}`).expect(200);
    expect((qAudit.body as { items: AuditJson[] }).items).toEqual([]);
    await request(server).get('/audit').expect(400);
    expect(await clusterOf(Q, written[Q][2])).toBe(qCluster);
  });
});
