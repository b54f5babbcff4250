import Redis from 'ioredis';
import { EventStream } from '../../src/stream/event-stream';
import { closeTestRedis, openTestRedis, redisUrl } from '../support/test-redis';

const DB = 1;
const STREAM = 'test:event-stream';
const GROUP = 'g';
/** Far longer than any wait below: a read still blocked when it ends would time the test out. */
const LONG_BLOCK_MS = 20_000;

describe('EventStream blocking reads', () => {
  let redis: Redis;
  let blocking: Redis;
  let stream: EventStream;
  beforeEach(async () => {
    redis = await openTestRedis(DB);
    blocking = new Redis(redisUrl(DB));
    stream = new EventStream(redis, blocking, STREAM, GROUP, 'c1');
    await stream.ensureGroup();
  });
  afterEach(async () => {
    blocking.disconnect();
    await closeTestRedis(redis);
  });

  const blockedReaders = async () =>
    String(await redis.client('LIST'))
      .split('\n')
      .some((line) => / flags=b /.test(line) && line.includes('cmd=xreadgroup'));

  /** Starts a long blocking read, interrupts it once Redis shows it blocked, times it. */
  async function interruptedRead(): Promise<{ entries: unknown[]; ms: number }> {
    const started = Date.now();
    const read = stream.readNew(10, LONG_BLOCK_MS);
    while (!(await blockedReaders())) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    stream.interruptRead();
    const entries = await read;
    return { entries, ms: Date.now() - started };
  }

  it('interruptRead ends a blocked read at once, with no entries, and loses none', async () => {
    const { entries, ms } = await interruptedRead();
    expect(entries).toEqual([]);
    expect(ms).toBeLessThan(5000);

    const id = await redis.xadd(STREAM, '*', 'n', '1');
    expect((await stream.readNew(10, LONG_BLOCK_MS)).map((e) => e.entryId)).toEqual([id]);
  });

  it('interrupts the read of a reconnected reading connection, not a stale client id', async () => {
    await interruptedRead();
    blocking.disconnect(true);
    await new Promise<void>((resolve) => blocking.once('ready', () => resolve()));

    const { entries, ms } = await interruptedRead();
    expect(entries).toEqual([]);
    expect(ms).toBeLessThan(5000);
  });
});
