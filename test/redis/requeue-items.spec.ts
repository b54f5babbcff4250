import { Keyspace } from '../../src/redis/keyspace';
import Redis from 'ioredis';
import { FeedbackRepository } from '../../src/feedback/feedback.repository';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

describe('requeue-items.lua through FeedbackRepository.requeue', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(1)));
  afterEach(async () => closeTestRedis(redis));

  it('puts clustered items back to waiting, keeping their cluster, and leaves gone or foreign keys alone', async () => {
    await redis.hset('feedback:a', {
      id: 'a',
      title: 'new text',
      clustered: 'true',
      cluster_id: 'c1',
    });
    await redis.set('feedback:b', 'not a hash');

    expect(await new FeedbackRepository(redis, Keyspace.flat()).requeue(['a', 'b', 'gone'])).toBe(
      1,
    );

    expect(await redis.hgetall('feedback:a')).toEqual({
      id: 'a',
      title: 'new text',
      clustered: 'false',
      cluster_id: 'c1',
    });
    expect((await redis.smembers('feedback:unclustered')).sort()).toEqual(['a']);
    expect(await redis.get('feedback:b')).toBe('not a hash');
    expect(await redis.exists('feedback:gone')).toBe(0);
  });
});
