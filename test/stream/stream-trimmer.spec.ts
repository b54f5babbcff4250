import Redis from 'ioredis';
import { StreamTrimmer } from '../../src/stream/stream-trimmer';
import { closeTestRedis, openTestRedis } from '../support/test-redis';

const KEY = 'feedback:events';

describe('StreamTrimmer: trims only what every group has acknowledged', () => {
  let redis: Redis;
  beforeEach(async () => (redis = await openTestRedis(2)));
  afterEach(async () => closeTestRedis(redis));

  async function append(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++)
      ids.push((await redis.xadd(KEY, '*', 'type', 'feedback.created', 'id', `f${i}`))!);
    return ids;
  }

  async function readAndAck(group: string, count: number, ackCount: number): Promise<void> {
    const reply = (await redis.xreadgroup(
      'GROUP',
      group,
      'c',
      'COUNT',
      count,
      'STREAMS',
      KEY,
      '>',
    )) as Array<[string, Array<[string, string[]]>]> | null;
    const ids = (reply?.[0]?.[1] ?? []).map(([id]) => id);
    if (ackCount > 0) await redis.xack(KEY, group, ...ids.slice(0, ackCount));
  }

  it('never trims a stream without consumer groups', async () => {
    await append(5);
    expect(await new StreamTrimmer(redis, KEY).trim()).toBe(0);
    expect(await redis.xlen(KEY)).toBe(5);
  });

  it('cuts at the oldest entry still pending or unread in any group', async () => {
    const ids = await append(10);
    await redis.xgroup('CREATE', KEY, 'fast', '0');
    await redis.xgroup('CREATE', KEY, 'slow', '0');
    await readAndAck('fast', 10, 10); // fast: everything acknowledged
    await readAndAck('slow', 6, 3); // slow: 0-2 acked, 3-5 pending, 6-9 unread

    const trimmer = new StreamTrimmer(redis, KEY);
    expect(await trimmer.safeCut()).toBe(ids[3]);
    // Exact trim to observe the policy (the service trims with `~`, which removes less).
    await redis.xtrim(KEY, 'MINID', (await trimmer.safeCut())!);
    const left = (await redis.xrange(KEY, '-', '+')).map(([id]) => id);
    expect(left).toEqual(ids.slice(3));
  });

  it('keeps entries no group has read yet', async () => {
    const ids = await append(4);
    await redis.xgroup('CREATE', KEY, 'g', '0');
    await readAndAck('g', 2, 2);
    expect(await new StreamTrimmer(redis, KEY).safeCut()).toBe(ids[1]);
  });

  describe('bounded consumer state', () => {
    const limits = { idleConsumerMs: 150, staleGroupMs: 150 };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it("removes the service group's idle consumers with nothing pending, and keeps the others", async () => {
      await append(3);
      await redis.xgroup('CREATE', KEY, 'clustering', '0');
      await redis.xgroup('CREATECONSUMER', KEY, 'clustering', 'dead-process');
      await redis.xreadgroup('GROUP', 'clustering', 'holds-one', 'COUNT', 1, 'STREAMS', KEY, '>');
      await sleep(250);
      await redis.xgroup('CREATECONSUMER', KEY, 'clustering', 'just-started');

      const removed = await new StreamTrimmer(
        redis,
        KEY,
        'clustering',
        limits,
      ).removeIdleConsumers();

      expect(removed).toBe(1);
      const names = ((await redis.xinfo('CONSUMERS', KEY, 'clustering')) as unknown[][]).map(
        (flat) => String(flat[1]),
      );
      // 'holds-one' is idle too but has a pending entry: it is claimed first, not dropped.
      expect(names.sort()).toEqual(['holds-one', 'just-started']);
    });

    it('stops letting an abandoned foreign group hold back trimming, but not a live one', async () => {
      const ids = await append(6);
      await redis.xgroup('CREATE', KEY, 'clustering', '0');
      await redis.xgroup('CREATE', KEY, 'abandoned', '0');
      await readAndAck('clustering', 6, 6);
      await readAndAck('abandoned', 2, 0); // its consumer 'c' read two entries, then went away
      const trimmer = new StreamTrimmer(redis, KEY, 'clustering', limits);
      expect(await trimmer.safeCut()).toBe(ids[0]);

      await sleep(250);
      expect(await trimmer.safeCut()).toBe(ids[5]);

      // A reader of that group coming back makes it count again.
      await redis.xreadgroup('GROUP', 'abandoned', 'c', 'COUNT', 1, 'STREAMS', KEY, '>');
      expect(await trimmer.safeCut()).toBe(ids[0]);
    });
  });
});
