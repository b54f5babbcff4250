import request from 'supertest';
import { FeedbackRepository } from '../../src/feedback/feedback.repository';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { Keyspace, SharedKeys } from '../../src/redis/keyspace';
import { DeadLetters } from '../../src/stream/dead-letters';
import { useServiceFixture } from '../support/service-fixture';
import { startApp } from '../support/test-app';
import { waitFor } from '../support/test-redis';

const DB = 14;
const TOKEN = 'a-test-token-of-32-characters-xx';
const PROJECT = 'clx0ops0000project0001';
const OTHER = 'clx0ops0000project0002';

/** A replica with its clustering loop running (the event consumer, or the project worker). */
const startReplica = (db: number, env: Record<string, string> = {}) =>
  startApp(db, { API_TOKEN: TOKEN, CONSUMER_ENABLED: 'true', ...env });

describe.each([
  ['flat', {}, undefined],
  ['project', { KEY_LAYOUT: 'project' }, PROJECT],
] as const)('dead letters and parked items over HTTP (%s layout)', (_, env, projectId) => {
  const fixture = useServiceFixture(DB, startReplica);
  const keys = projectId === undefined ? Keyspace.flat() : Keyspace.project(projectId);
  const query = projectId === undefined ? '' : `?project_id=${projectId}`;
  const clustered = async (id: string) =>
    (await fixture.redis.hget(keys.feedback.item(id), 'clustered')) === 'true';

  /** An item waiting unannounced (as if its event had been dead-lettered), and its dead letter. */
  async function deadLettered(title: string, reason: string): Promise<string> {
    const { id } = await new FeedbackWriter(fixture.redis, keys).write(
      { source: 'manual', title },
      { emitEvent: false },
    );
    const fields: Record<string, string> = { type: 'feedback.created', id };
    if (projectId) fields.project_id = projectId;
    await new DeadLetters(fixture.redis).add([
      { entry: { entryId: '1-1', fields }, reason, deliveries: 5 },
    ]);
    return id;
  }

  it('lists dead letters with their reasons, newest first and paged, and replays them', async () => {
    // Parked, so that the clustering loop leaves them alone until they are replayed.
    const first = await deadLettered('payment failed twice', 'persist exploded');
    const second = await deadLettered('payment page is slow', 'persist exploded again');
    await new FeedbackRepository(fixture.redis, keys).park([
      { id: first, reason: 'hold' },
      { id: second, reason: 'hold' },
    ]);
    // Another project's dead letter (or, flat, one of the project layout) is not listed.
    await new DeadLetters(fixture.redis).add([
      {
        entry: { entryId: '1-2', fields: { id: 'x', project_id: projectId ? OTHER : PROJECT } },
        reason: 'elsewhere',
      },
    ]);
    const app = await fixture.start(env);
    const http = () => request(app.getHttpServer());

    const page1 = await http()
      .get(`/dead-letters${query}${query ? '&' : '?'}limit=1`)
      .expect(200);
    expect(page1.body.items).toEqual([
      expect.objectContaining({
        feedback_id: second,
        entry_id: '1-1',
        type: 'feedback.created',
        reason: 'persist exploded again',
        deliveries: 5,
        at: expect.any(String),
        ...(projectId ? { project_id: projectId } : {}),
      }),
    ]);
    expect(page1.body.next_cursor).toEqual(page1.body.items[0].id);
    const page2 = await http()
      .get(`/dead-letters${query}${query ? '&' : '?'}limit=1&cursor=${page1.body.next_cursor}`)
      .expect(200);
    expect(page2.body.items).toEqual([expect.objectContaining({ feedback_id: first })]);
    expect(page2.body.next_cursor).toBeNull();

    await http().post(`/dead-letters/replay${query}`).send({}).expect(401);
    await http()
      .post(`/dead-letters/replay${query}`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ ids: ['nope'] })
      .expect(400);
    // Replaying one, then all: each is re-announced once and leaves the dead letters.
    await fixture.redis.hdel(keys.service.parked, first, second);
    const one = await http()
      .post(`/dead-letters/replay${query}`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ ids: [page1.body.items[0].id] })
      .expect(200);
    expect(one.body).toEqual({ replayed: 1, unreplayable: 0 });
    const rest = await http()
      .post(`/dead-letters/replay${query}`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({})
      .expect(200);
    expect(rest.body).toEqual({ replayed: 1, unreplayable: 0 });
    await waitFor(
      async () => (await clustered(first)) && (await clustered(second)),
      20_000,
      'replayed items clustered',
    );
    expect((await http().get(`/dead-letters${query}`).expect(200)).body.items).toEqual([]);
    expect(await fixture.redis.xlen(SharedKeys.deadLetters)).toBe(1);
  });

  it('lists parked items with their reasons and releases them to the pipeline', async () => {
    const writer = new FeedbackWriter(fixture.redis, keys);
    const { id: older } = await writer.write(
      { source: 'manual', title: 'crash on start' },
      { emitEvent: false },
    );
    const { id: newer } = await writer.write(
      { source: 'manual', title: 'crash on exit' },
      { emitEvent: false },
    );
    await fixture.redis.hset(
      keys.service.parked,
      older,
      JSON.stringify({ reason: 'embedder refused the text', at: '2024-05-01T00:00:00.000Z' }),
      newer,
      JSON.stringify({ reason: 'no visible text', at: '2024-05-02T00:00:00.000Z' }),
    );
    const app = await fixture.start(env);
    const http = () => request(app.getHttpServer());

    const page1 = await http()
      .get(`/parked-items${query}${query ? '&' : '?'}limit=1`)
      .expect(200);
    expect(page1.body.items).toEqual([
      { feedback_id: newer, reason: 'no visible text', at: '2024-05-02T00:00:00.000Z' },
    ]);
    const page2 = await http()
      .get(`/parked-items${query}${query ? '&' : '?'}limit=1&cursor=${page1.body.next_cursor}`)
      .expect(200);
    expect(page2.body).toEqual({
      items: [
        { feedback_id: older, reason: 'embedder refused the text', at: '2024-05-01T00:00:00.000Z' },
      ],
      next_cursor: null,
    });
    await http()
      .post(`/parked-items/replay${query}`)
      .send({ ids: [older] })
      .expect(401);
    // Parked items wait: nothing clusters them until they are released.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await clustered(older)).toBe(false);

    const released = await http()
      .post(`/parked-items/replay${query}`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ ids: [older, 'not-parked'] })
      .expect(200);
    expect(released.body).toEqual({ replayed: 1 });
    await waitFor(() => clustered(older), 20_000, 'released item clustered');
    const all = await http()
      .post(`/parked-items/replay${query}`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .expect(200);
    expect(all.body).toEqual({ replayed: 1 });
    await waitFor(() => clustered(newer), 20_000, 'every released item clustered');
    expect((await http().get(`/parked-items${query}`).expect(200)).body.items).toEqual([]);
  });

  if (projectId) {
    it('needs project_id in the project layout', async () => {
      const app = await fixture.start(env);
      const missing = await request(app.getHttpServer()).get('/dead-letters').expect(400);
      expect(missing.body.message).toMatch(/project_id/);
      await request(app.getHttpServer()).get('/parked-items?project_id=a:b').expect(400);
    });
  }
});
