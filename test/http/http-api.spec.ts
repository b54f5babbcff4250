import { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { JobKeys } from '../../src/redis/keys';
import { startApp } from '../support/test-app';
import { openTestRedis } from '../support/test-redis';

/** This spec's database on the real Redis (shared with test/metrics, which runs after it). */
const DB = 7;
const TOKEN = 'a-test-token-of-32-characters-xx';

describe('HTTP interface: authentication, validation, errors, documentation', () => {
  let redis: Redis;
  let app: INestApplication;

  beforeAll(async () => {
    app = await startApp(DB, { API_TOKEN: TOKEN, JOBS_CONSUMER_ENABLED: 'false' });
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(async () => {
    redis = await openTestRedis(DB);
  });

  afterEach(async () => {
    await redis.flushdb();
    await redis.quit();
  });

  const http = () => request(app.getHttpServer());
  const authorized = (path: string) => http().post(path).set('Authorization', `Bearer ${TOKEN}`);

  it.each(['/cluster-jobs', '/clusters/run'])('%s requires the bearer token', async (path) => {
    const missing = await http().post(path).send({}).expect(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(missing.body).toMatchObject({
      statusCode: 401,
      message: expect.stringMatching(/Bearer/),
    });
    await http().post(path).set('Authorization', `Bearer ${TOKEN}x`).send({}).expect(401);
    await http().post(path).set('Authorization', TOKEN).send({}).expect(401);
    expect(await redis.zcard(JobKeys.recent)).toBe(0);

    await authorized(path).send({}).expect(202);
    expect(await redis.zcard(JobKeys.recent)).toBe(1);
  });

  it('lets reads through without a token', async () => {
    await http().get('/cluster-jobs').expect(200);
    await http().get('/clusters').expect(200);
  });

  it('answers 400 for bad job bodies, saying what is wrong', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ source: 'Reddit' }, /source must be a lowercase word/],
      [{ source: [] }, /source must be a lowercase word .* or an array of 1 to 20/],
      [{ source: Array.from({ length: 21 }, (_, i) => `s${i}`) }, /array of 1 to 20/],
      [{ source: ['reddit', 7] }, /source must be a lowercase word/],
      [{ since: 'yesterday' }, /since must be an ISO 8601 date/],
      [{ mode: 'everything' }, /mode must be one of the following values: incremental, full/],
      [{ limit: 5 }, /property limit should not exist/],
    ];
    for (const [body, message] of cases) {
      const { body: answer } = await authorized('/cluster-jobs')
        .send(body as object)
        .expect(400);
      expect((answer as { message: string[] }).message.join('; ')).toMatch(message);
    }
    const malformed = await authorized('/cluster-jobs')
      .set('Content-Type', 'application/json')
      .send('{"source": ')
      .expect(400);
    expect(JSON.stringify(malformed.body)).not.toMatch(/at .*\.js/);
    expect(await redis.zcard(JobKeys.recent)).toBe(0);
  });

  it('answers 500 with a generic message, and no internals, when something unexpected fails', async () => {
    // Redis answers WRONGTYPE for this key: an error no handler expects.
    await redis.set(JobKeys.recent, 'not a sorted set');
    const { body } = await http().get('/cluster-jobs').expect(500);
    expect(body).toEqual({ statusCode: 500, message: 'Internal server error' });
  });

  it('publishes the OpenAPI document and Swagger UI at /docs', async () => {
    const ui = await http().get('/docs').expect(200);
    expect(ui.text).toMatch(/swagger/i);
    const { body } = await http().get('/docs-json').expect(200);
    const document = body as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/cluster-jobs',
        '/cluster-jobs/{id}',
        '/clusters/run',
        '/clusters',
        '/clusters/{id}',
        '/health/ready',
        '/metrics',
      ]),
    );
    expect(document.paths['/cluster-jobs'].post.security).toEqual([{ bearer: [] }]);
    expect(document.components.securitySchemes).toHaveProperty('bearer');
  });
});
