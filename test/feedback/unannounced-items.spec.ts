import { Keyspace } from '../../src/redis/keyspace';
import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import { LOOKBACK_SECONDS, UnannouncedItems } from '../../src/feedback/unannounced-items';
import { ServiceKeys } from '../../src/redis/keys';
import { contractViolations } from '../support/contract-invariants';
import { expectClustered } from '../support/invariants';
import { useServiceFixture } from '../support/service-fixture';
import { eventually } from '../support/test-app';

const DB = 11;
const TOPICS = ['payment', 'crash', 'login', 'dark'];

/**
 * Writes items as the seed project's own backend does: the hash (without a `clustered`
 * field) and the sorted sets, and neither an event nor a `feedback:unclustered` entry.
 */
async function writeAsSeedBackend(redis: Redis, count: number, createdAt: (i: number) => Date) {
  const ids: string[] = [];
  const write = redis.pipeline();
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const at = createdAt(i);
    write.hset(`feedback:${id}`, {
      id,
      source: 'manual',
      title: `${TOPICS[i % TOPICS.length]} problem number ${i}`,
      body: '',
      created_at: at.toISOString(),
    });
    write.zadd('feedback:created', Math.floor(at.getTime() / 1000), id);
    write.zadd('feedback:source:manual', Math.floor(at.getTime() / 1000), id);
    ids.push(id);
  }
  await write.exec();
  return ids;
}

describe('items producers never announced (CONTRACT §1), found through a watermark', () => {
  const fixture = useServiceFixture(DB);

  async function runJob(app: INestApplication): Promise<void> {
    const { body } = await request(app.getHttpServer()).post('/cluster-jobs').send({}).expect(202);
    const id = (body as { id: string }).id;
    await eventually(async () => {
      const job = await fixture.redis.hget(`cluster_job:${id}`, 'status');
      return job === 'succeeded' || job === 'failed' ? job : undefined;
    }, 20_000).then((status) => expect(status).toBe('succeeded'));
  }

  it('clusters all 130 of the seed backend items, then later ones, old-dated ones included', async () => {
    const app = await fixture.start();
    const now = Date.now();
    const first = await writeAsSeedBackend(fixture.redis, 130, (i) => new Date(now - i * 1000));

    await runJob(app);

    await expectClustered(fixture.redis, first);
    const watermark = Number(await fixture.redis.hget(ServiceKeys.unannounced, 'watermark'));
    expect(watermark).toBe(Math.floor(now / 1000));

    // Written after the watermark moved: new ones, ones a little older than the watermark
    // (a slow producer) and an import dated years back.
    const later = [
      ...(await writeAsSeedBackend(fixture.redis, 10, () => new Date(now + 5000))),
      ...(await writeAsSeedBackend(fixture.redis, 5, () => new Date(now - 120_000))),
      ...(await writeAsSeedBackend(fixture.redis, 3, () => new Date('2019-03-01T10:00:00Z'))),
    ];
    await runJob(app);

    await expectClustered(fixture.redis, [...first, ...later]);
    expect(await contractViolations(fixture.redis)).toEqual([]);
  });

  it('examines only what came after the watermark (plus a bounded look-back and slice)', async () => {
    const search = new UnannouncedItems(fixture.redis, Keyspace.flat());
    const start = Date.now() - 86_400_000;
    // 6,000 items spread over a day, 14.4 s apart.
    const ids = await writeAsSeedBackend(fixture.redis, 6000, (i) => new Date(start + i * 14_400));

    const first = await search.search();
    expect(first.adopted).toBe(ids.length);
    // Clustered meanwhile (as the pass would): nothing is adopted twice.
    await fixture.redis.del('feedback:unclustered');
    for (const id of ids) await fixture.redis.hset(`feedback:${id}`, 'clustered', 'true');

    const second = await search.search();

    expect(second.adopted).toBe(0);
    // The look-back window holds about LOOKBACK_SECONDS / 14.4 items; the slow cursor at most
    // what is left after the first slice; nowhere near the 6,000 a full scan would read.
    expect(second.examined).toBeLessThan(LOOKBACK_SECONDS / 14.4 + 1 + 1000 + 2);
    expect(second.examined).toBeLessThan(ids.length / 3);
  });
});
