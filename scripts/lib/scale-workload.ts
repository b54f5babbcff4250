import Redis from 'ioredis';
import { sleep } from './redis-server';

/**
 * StackOverflow-like question titles (there is no such dataset here): a technology, an action
 * on an object, a symptom and a phrasing, with versions and error codes varying. Titles about
 * one action on one object resemble each other, which gives thousands of small topics for
 * 20,000 titles, as real question titles do (4,873 clusters for 20,000 StackOverflow titles).
 */
const TECHS = (
  'React Angular Vue Svelte Next.js Node.js Express NestJS Django Flask FastAPI ' +
  'Spring-Boot Hibernate Rails Laravel ASP.NET Kotlin Swift SwiftUI Flutter Android iOS Docker ' +
  'Kubernetes Terraform Lambda PostgreSQL MySQL MongoDB Redis Elasticsearch Kafka pandas NumPy ' +
  'TensorFlow PyTorch Git webpack Vite TypeScript Go Rust C++ Java Bash Nginx Excel VBA R Scala'
).split(' ');
const ACTIONS = (
  'parse read write upload download sort filter group merge join cache serialize ' +
  'deserialize encrypt validate paginate stream compress resize render debounce mock test deploy ' +
  'migrate index query update delete insert rename format convert schedule retry log'
).split(' ');
const OBJECTS = (
  'JSON file, CSV rows, nested array, date string, timestamp, image, PDF, form data, ' +
  'query string, HTTP response, websocket message, environment variable, config file, user ' +
  'session, JWT token, cookie, enum, dictionary, linked list, binary tree, matrix, dataframe ' +
  'column, foreign key, composite index, transaction, background job, cron task, log file, ' +
  'unicode text, decimal number, large integer, UUID, email address, phone number, URL'
).split(', ');
const SYMPTOMS = [
  'returns null',
  'is very slow',
  'throws an exception',
  'fails silently',
  'gives wrong results',
  'hangs forever',
  'runs out of memory',
  'works locally but not in production',
  'loses precision',
  'is called twice',
  'times out',
  'returns an empty list',
];
const PHRASES = [
  (t: string, a: string, o: string) => `How to ${a} a ${o} in ${t}?`,
  (t: string, a: string, o: string, s: string) => `${t}: trying to ${a} ${o} ${s}`,
  (t: string, a: string, o: string, s: string) => `Why does ${a} ${o} ${s} (${t})`,
  (t: string, a: string, o: string, s: string) => `${a} ${o} with ${t} ${s}`,
  (t: string, a: string, o: string) => `Best way to ${a} ${o} using ${t}`,
  (t: string, a: string, o: string, s: string) => `[${t}] ${o} ${s} after I ${a} it`,
];

export function stackOverflowTitles(count: number, random: () => number): string[] {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  return Array.from({ length: count }, () => {
    const title = pick(PHRASES)(pick(TECHS), pick(ACTIONS), pick(OBJECTS), pick(SYMPTOMS));
    const version =
      random() < 0.4 ? ` v${1 + Math.floor(random() * 9)}.${Math.floor(random() * 20)}` : '';
    const code = random() < 0.2 ? ` (error ${Math.floor(random() * 900) + 100})` : '';
    return `${title}${version}${code}`;
  });
}

/** Bytes Redis uses for every key starting with `prefix` (MEMORY USAGE, summed). */
export async function bytesUnderPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let total = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    for (const [, bytes] of (await pipeline.exec()) ?? []) total += Number(bytes ?? 0);
  } while (cursor !== '0');
  return total;
}

/**
 * Polls `GET /health/live` back to back (each request waits for the previous one) and
 * records how long each took: what an ECS health check would see.
 */
export function probeLiveness(baseUrl: string): { stop(): Promise<number[]> } {
  const waits: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        await fetch(`${baseUrl}/health/live`, { signal: AbortSignal.timeout(5000) });
      } catch {
        // A timed-out or refused probe counts with the time it took.
      }
      waits.push(performance.now() - started);
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return waits;
    },
  };
}

/** Runs one full sweep through `POST /cluster-jobs` and waits for it; returns the job. */
export async function runFullSweep(
  baseUrl: string,
  timeoutMs: number,
): Promise<{ status: string; stats: Record<string, number>; wallMs: number }> {
  const started = performance.now();
  const created = await fetch(`${baseUrl}/cluster-jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 'full' }),
  });
  const { id } = (await created.json()) as { id: string };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await fetch(`${baseUrl}/cluster-jobs/${id}`)).json()) as {
      status: string;
      stats: Record<string, number>;
    };
    if (job.status === 'succeeded' || job.status === 'failed') {
      return { ...job, wallMs: performance.now() - started };
    }
    if (Date.now() > deadline)
      throw new Error(`sweep ${id} still ${job.status} after ${timeoutMs} ms`);
    await sleep(100);
  }
}
