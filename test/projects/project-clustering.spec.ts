import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { Keyspace } from '../../src/redis/keyspace';
import { useServiceFixture } from '../support/service-fixture';
import { startApp } from '../support/test-app';
import { waitFor } from '../support/test-redis';

const DB = 9;
const ALPHA = '0b7e6f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const BETA = 'clx0beta0000project0001';
const TOPICS = ['payment', 'crash', 'login', 'dark'];

/** Replicas of the project layout with the topic embedder; sweeps and summaries quiet. */
const startReplica = (db: number, env: Record<string, string> = {}) =>
  startApp(db, { KEY_LAYOUT: 'project', CONSUMER_ENABLED: 'true', ...env });

describe('clustering in the project-scoped layout (CONTRACT §7)', () => {
  const fixture = useServiceFixture(DB, startReplica);

  /** Items of both projects on the same topics: ALPHA's with events, BETA's without any. */
  async function writeBoth(perTopic: number): Promise<Record<string, string[]>> {
    const written: Record<string, string[]> = { [ALPHA]: [], [BETA]: [] };
    for (const [projectId, emitEvent] of [
      [ALPHA, true],
      [BETA, false],
    ] as const) {
      const writer = new FeedbackWriter(fixture.redis, Keyspace.project(projectId));
      for (let i = 0; i < perTopic; i++) {
        for (const topic of TOPICS) {
          const { id } = await writer.write(
            { source: 'manual', title: `${topic} report ${i}` },
            { emitEvent },
          );
          written[projectId].push(id);
        }
      }
    }
    return written;
  }

  const clusteredIn = async (projectId: string, id: string) =>
    (await fixture.redis.hget(`feedback:${projectId}:${id}`, 'clustered')) === 'true';

  it('clusters two projects inside their own keys, never sharing a cluster', async () => {
    await fixture.start();
    const written = await writeBoth(3);

    await waitFor(
      async () => {
        for (const [projectId, ids] of Object.entries(written)) {
          for (const id of ids) if (!(await clusteredIn(projectId, id))) return false;
        }
        return true;
      },
      20_000,
      'every item of both projects clustered',
    );

    for (const [projectId, ids] of Object.entries(written)) {
      const live = await fixture.redis.zrange(`clusters:${projectId}:all`, 0, -1);
      expect(live.length).toBe(TOPICS.length);
      let members = 0;
      for (const clusterId of live) {
        const cluster = await fixture.redis.hgetall(`cluster:${projectId}:${clusterId}`);
        expect(cluster.project_id).toBe(projectId);
        const items = await fixture.redis.smembers(`cluster:${projectId}:${clusterId}:items`);
        for (const id of items) expect(ids).toContain(id);
        members += items.length;
      }
      expect(members).toBe(ids.length);
      expect(await fixture.redis.scard(`feedback:unclustered:${projectId}`)).toBe(0);
    }
    const alphaClusters = await fixture.redis.zrange(`clusters:${ALPHA}:all`, 0, -1);
    const betaClusters = await fixture.redis.zrange(`clusters:${BETA}:all`, 0, -1);
    expect(alphaClusters.filter((c) => betaClusters.includes(c))).toEqual([]);
    // Nothing of the flat layout is written.
    const flat = await fixture.redis.keys('cluster:items:*');
    expect(flat).toEqual([]);
    for (const key of ['clusters:all', 'feedback:unclustered', 'clustering:lock:assign']) {
      expect(await fixture.redis.exists(key)).toBe(0);
    }
    expect((await fixture.redis.smembers('clustering:projects')).sort()).toEqual(
      [ALPHA, BETA].sort(),
    );
  });

  it('one project whose items cannot be embedded does not hold back another', async () => {
    await fixture.start();
    const writer = new FeedbackWriter(fixture.redis, Keyspace.project(ALPHA));
    // Items with no visible text are parked; they stay waiting in ALPHA's set.
    for (let i = 0; i < 20; i++) {
      await writer.write({ source: 'manual', title: '\u200b', body: ' ' }, { emitEvent: false });
    }
    const other = new FeedbackWriter(fixture.redis, Keyspace.project(BETA));
    const { id } = await other.write(
      { source: 'manual', title: 'login fails' },
      { emitEvent: false },
    );

    await waitFor(() => clusteredIn(BETA, id), 10_000, 'the other project clustered');
    await waitFor(
      async () => (await fixture.redis.hlen(`clustering:${ALPHA}:parked`)) === 20,
      10_000,
      'the unreadable items parked in their own project',
    );
  });

  it('two replicas share the projects and cluster each item once', async () => {
    await fixture.start({ CONSUMER_NAME: 'replica-a', BATCH_MAX_ITEMS: '4' });
    await fixture.start({ CONSUMER_NAME: 'replica-b', BATCH_MAX_ITEMS: '4' });
    const written = await writeBoth(4);
    await waitFor(
      async () => {
        for (const [projectId, ids] of Object.entries(written)) {
          for (const id of ids) if (!(await clusteredIn(projectId, id))) return false;
        }
        return true;
      },
      30_000,
      'every item clustered',
    );
    for (const [projectId, ids] of Object.entries(written)) {
      let members = 0;
      for (const clusterId of await fixture.redis.zrange(`clusters:${projectId}:all`, 0, -1)) {
        members += await fixture.redis.scard(`cluster:${projectId}:${clusterId}:items`);
      }
      expect(members).toBe(ids.length);
    }
  });
});
