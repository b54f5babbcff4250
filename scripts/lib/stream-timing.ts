import Redis from 'ioredis';
import { FeedbackWriter, NewFeedback } from '../../src/feedback/feedback-writer';
import { FeedbackKeys } from '../../src/redis/keys';
import { sleep } from './redis-server';

/** Writes `items` through the producer path at `rate` per second, in 50 ms ticks. */
export async function produceAtRate(
  writer: FeedbackWriter,
  items: readonly NewFeedback[],
  rate: number,
  /** Called each tick with the seconds since the first write (e.g. to start a fault). */
  onTick?: (elapsedSeconds: number) => void,
): Promise<{ ids: string[]; seconds: number }> {
  const tickMs = 50;
  const ids: string[] = [];
  const started = Date.now();
  let sent = 0;
  for (let tick = 1; sent < items.length; tick++) {
    const due = Math.min(items.length, Math.floor((rate * (Date.now() - started)) / 1000));
    if (due > sent) {
      const outcomes = await writer.writeMany(items.slice(sent, due));
      for (const o of outcomes) if (o.ok) ids.push(o.id);
      sent = due;
    }
    onTick?.((Date.now() - started) / 1000);
    await sleep(Math.max(0, started + tick * tickMs - Date.now()));
  }
  return { ids, seconds: (Date.now() - started) / 1000 };
}

/** `clustered_at` (epoch ms) of each id; NaN for an item that is not clustered. */
export async function clusteredAt(redis: Redis, ids: readonly string[]): Promise<number[]> {
  const result: number[] = [];
  const CHUNK = 5000;
  for (let start = 0; start < ids.length; start += CHUNK) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(start, start + CHUNK))
      pipeline.hget(FeedbackKeys.item(id), 'clustered_at');
    for (const [, value] of (await pipeline.exec()) ?? []) {
      result.push(typeof value === 'string' ? Date.parse(value) : NaN);
    }
  }
  return result;
}

/** The `ts` field of every `feedback.created` event still in the stream, by feedback id. */
async function eventTimes(redis: Redis): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  let cursor = '-';
  for (;;) {
    const entries = await redis.xrange(FeedbackKeys.events, cursor, '+', 'COUNT', 10_000);
    for (const [, fields] of entries) {
      const field = (name: string) => fields[fields.indexOf(name) + 1];
      if (fields.includes('id') && fields.includes('ts'))
        times.set(field('id'), Number(field('ts')));
    }
    if (entries.length < 10_000) return times;
    cursor = `(${entries[entries.length - 1][0]}`;
  }
}

/**
 * Per clustered item, `clustered_at` minus its event's `ts` (ms). The stream must still hold
 * the events: a consumer group that reads nothing keeps the trimmer off them.
 */
export async function eventToClusteredMs(redis: Redis, ids: readonly string[]): Promise<number[]> {
  const [times, clustered] = [await eventTimes(redis), await clusteredAt(redis, ids)];
  const latencies: number[] = [];
  ids.forEach((id, i) => {
    const ts = times.get(id);
    if (ts !== undefined && Number.isFinite(clustered[i])) latencies.push(clustered[i] - ts);
  });
  return latencies;
}
