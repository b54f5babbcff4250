import Redis from 'ioredis';
import { Keyspace, SharedKeys } from '../../src/redis/keyspace';
import { runScript } from '../../src/redis/lua-scripts';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const PROJECT = 'clx0ops0000project0001';

describe('replay-dead-letters.lua', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(1)));
  afterEach(async () => closeTestRedis(redis));

  const deadLetter = (fields: Record<string, string>) =>
    redis.xadd(SharedKeys.deadLetters, '*', ...Object.entries(fields).flat()) as Promise<string>;
  const replay = (keys: Keyspace, ids: string[]) =>
    runScript(
      redis,
      'replayDeadLetters',
      [SharedKeys.deadLetters, SharedKeys.events],
      ['1700', ...ids],
      keys,
    );
  const events = async () =>
    (await redis.xrange(SharedKeys.events, '-', '+')).map(([, flat]) => flat);

  it('re-announces the project’s entries with a feedback id once, removes them, keeps the others', async () => {
    const flatOne = await deadLetter({
      entry_id: '1-1',
      feedback_id: 'a',
      type: 'feedback.created',
      reason: 'boom',
    });
    const noId = await deadLetter({
      entry_id: '1-2',
      feedback_id: '',
      type: '',
      reason: 'event has no id field',
    });
    const projects = await deadLetter({
      entry_id: '1-3',
      feedback_id: 'b',
      reason: 'boom',
      project_id: PROJECT,
    });

    expect(await replay(Keyspace.flat(), [flatOne, noId, projects, '9-9'])).toEqual([1, 1]);
    expect(await events()).toEqual([
      ['type', 'feedback.updated', 'id', 'a', 'ts', '1700', 'replay_of', '1-1'],
    ]);
    expect(await replay(Keyspace.flat(), [flatOne])).toEqual([0, 0]);

    expect(await replay(Keyspace.project(PROJECT), [projects, noId])).toEqual([1, 0]);
    expect((await events())[1]).toEqual([
      'type',
      'feedback.updated',
      'id',
      'b',
      'ts',
      '1700',
      'replay_of',
      '1-3',
      'project_id',
      PROJECT,
    ]);
    expect((await redis.xrange(SharedKeys.deadLetters, '-', '+')).map(([id]) => id)).toEqual([
      noId,
    ]);
  });
});
