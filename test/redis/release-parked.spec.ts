import Redis from 'ioredis';
import { Keyspace, SharedKeys } from '../../src/redis/keyspace';
import { runScript } from '../../src/redis/lua-scripts';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const PROJECT = 'clx0ops0000project0001';

describe('release-parked.lua', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(1)));
  afterEach(async () => closeTestRedis(redis));

  const release = (keys: Keyspace, ids: string[]) =>
    runScript(
      redis,
      'releaseParked',
      [keys.service.parked, SharedKeys.events],
      ['1700', ...ids],
      keys,
    );
  const events = async () =>
    (await redis.xrange(SharedKeys.events, '-', '+')).map(([, flat]) => flat);

  it('unparks the named items and announces each once, in its project', async () => {
    const flat = Keyspace.flat();
    const project = Keyspace.project(PROJECT);
    await redis.hset(flat.service.parked, 'a', '{"reason":"x"}', 'b', '{"reason":"y"}');
    await redis.hset(project.service.parked, 'c', '{"reason":"z"}');

    expect(await release(flat, ['a', 'gone'])).toBe(1);
    expect(await release(flat, ['a'])).toBe(0);
    expect(await release(project, ['c'])).toBe(1);

    expect(await redis.hkeys(flat.service.parked)).toEqual(['b']);
    expect(await redis.exists(project.service.parked)).toBe(0);
    expect(await events()).toEqual([
      ['type', 'feedback.updated', 'id', 'a', 'ts', '1700'],
      ['type', 'feedback.updated', 'id', 'c', 'ts', '1700', 'project_id', PROJECT],
    ]);
  });
});
