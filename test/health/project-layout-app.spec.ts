import request from 'supertest';
import { Keyspace, SharedKeys } from '../../src/redis/keyspace';
import { persistQueuedCluster } from '../support/queued-cluster';
import { useServiceFixture } from '../support/service-fixture';
import { eventually } from '../support/test-app';

/** Database on the real Redis of the project-layout application specs. */
const DB = 8;
const GROUP = 'clustering';
const P = '3f0c2a4e-8d1b-4c6a-9e7f-0a1b2c3d4e5f';
const OTHER = 'ckz9x1y2z0000qwerty12345';

/**
 * The singletons of a replica in the project layout (CONTRACT §7): probes, metrics and the
 * summary worker serve the deployment, with no project known yet and with several.
 */
describe('a replica in the project layout: health, metrics, summaries', () => {
  const fixture = useServiceFixture(DB);
  const start = () => fixture.start({ KEY_LAYOUT: 'project' });

  it('is live and ready with no project known yet, and with some', async () => {
    const app = await start();
    const http = () => request(app.getHttpServer());

    await http().get('/health/live').expect(200);
    const before = await http().get('/health/ready').expect(200);
    expect(before.body).toMatchObject({
      status: 'ok',
      info: {
        redis: { status: 'up' },
        consumer_group: { status: 'up', stream: SharedKeys.events, group: GROUP },
        vector_index: { status: 'up', detail: 'no project yet' },
      },
    });

    await fixture.redis.sadd(SharedKeys.projects, P, OTHER);
    const after = await http().get('/health/ready').expect(200);
    expect(after.body).toMatchObject({
      status: 'ok',
      info: { vector_index: { status: 'up', adapter: 'embedded' } },
    });
  });

  it('creates the consumer group of the shared stream, and is not ready while it is gone', async () => {
    const app = await start();
    await request(app.getHttpServer()).get('/health/ready').expect(200);
    await fixture.redis.xgroup('DESTROY', SharedKeys.events, GROUP);
    const { body } = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(body).toMatchObject({
      error: { consumer_group: { status: 'down', stream: SharedKeys.events, group: GROUP } },
    });
  });

  it('serves /metrics with the shared stream backlog and no per-project series', async () => {
    await fixture.redis.sadd(SharedKeys.projects, P, OTHER);
    const app = await start();
    const { text } = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(text).toContain(
      `clustering_stream_lag{stream="${SharedKeys.events}",group="${GROUP}"} 0`,
    );
    expect(text).not.toContain(P);
    expect(text).not.toContain(OTHER);
  });

  it('works the summary queues of every known project', async () => {
    for (const project of [P, OTHER]) {
      const keys = Keyspace.project(project);
      await persistQueuedCluster(fixture.redis, 'c1', 3, keys);
      await persistQueuedCluster(fixture.redis, 'c2', 1, keys);
    }
    await fixture.redis.sadd(SharedKeys.projects, P, OTHER);
    await start();

    await eventually(async () => {
      let queued = 0;
      for (const project of [P, OTHER]) {
        queued += await fixture.redis.zcard(Keyspace.project(project).service.summaryQueue);
      }
      return queued === 0 ? true : undefined;
    });
    for (const project of [P, OTHER]) {
      for (const cluster of ['c1', 'c2']) {
        expect(await fixture.redis.hget(`cluster:${project}:${cluster}`, 'summary_model')).toBe(
          'extractive',
        );
      }
    }
  });
});
