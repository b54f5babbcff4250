/**
 * `npm run demo`: starts the service against Redis, imports the bundled sample feedback and
 * prints the clusters it found. Needs nothing but Node and a Redis (or `redis-server` on PATH).
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { readFeedbackFile, seededShuffle } from '../src/feedback/feedback-file';
import { FeedbackWriter } from '../src/feedback/feedback-writer';
import { ClusterKeys, FeedbackKeys, ServiceKeys } from '../src/redis/keys';
import {
  DEFAULT_REDIS_URL,
  isOnPath,
  pingRedis,
  redactRedisUrl,
  sleep,
  startThrowawayRedis,
  ThrowawayRedis,
  withDatabase,
} from './lib/redis-server';
import { ServiceProcess, ServiceStartError, startService } from './lib/service-process';

/** The demo's own database, so it never mixes with data in the default one. */
const DEMO_DB = 15;
const SAMPLE_FILE = join(__dirname, '../sample/feedback.jsonl');
const CLUSTERING_TIMEOUT_MS = 60_000;
/** How long the unclustered count must stay put before remaining parked items count as done. */
const PARKED_STABLE_MS = 3_000;

interface ClusterRow {
  title: string;
  size: number;
  sources: string[];
  repoUrl?: string;
  summary: string;
}

let throwawayRedis: ThrowawayRedis | undefined;
let service: ServiceProcess | undefined;

async function main(): Promise<number> {
  const requestedUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  let serverUrl = requestedUrl;
  if (await pingRedis(requestedUrl)) {
    console.log(`Redis: using ${redactRedisUrl(requestedUrl)}`);
  } else if (isOnPath('redis-server')) {
    console.log(
      `Redis: nothing answers at ${redactRedisUrl(requestedUrl)}; starting a throwaway redis-server`,
    );
    throwawayRedis = await startThrowawayRedis();
    serverUrl = throwawayRedis.url;
    console.log(`Redis: throwaway server on port ${throwawayRedis.port} (stopped at the end)`);
  } else {
    console.error(
      `No Redis answers at ${redactRedisUrl(requestedUrl)} and redis-server is not installed.\n` +
        'Get one with either of:\n' +
        '  sudo apt-get install redis-server        (then run: redis-server)\n' +
        '  docker run --rm -p 6379:6379 redis:7\n' +
        'or point REDIS_URL at a running Redis and run `npm run demo` again.',
    );
    return 1;
  }

  const redisUrl = withDatabase(serverUrl, DEMO_DB);
  const redis = new Redis(redisUrl);
  try {
    await redis.flushdb();
    if (!throwawayRedis) {
      console.log(`Redis: emptied database ${DEMO_DB} (the demo's own) with FLUSHDB`);
    }

    console.log('Service: starting src/main.ts ...');
    try {
      service = await startService({ redisUrl });
    } catch (error) {
      if (!(error instanceof ServiceStartError)) throw error;
      console.error(`Service: ${error.message}\n--- service output ---\n${error.output}`);
      return 1;
    }
    console.log(`Service: ready at ${service.baseUrl}`);

    const started = Date.now();
    const total = await importSample(redis);
    const imported = Date.now();
    const done = await waitForClustering(redis, total);
    const finished = Date.now();

    const clusters = await readClusters(redis);
    printClusters(clusters);
    const singletons = clusters.filter((c) => c.size === 1).length;
    console.log(
      `\n${total} items → ${clusters.length} clusters (${singletons} of a single item) in ` +
        `${seconds(finished - started)} (import ${seconds(imported - started)}, ` +
        `clustering ${seconds(finished - imported)})`,
    );
    return done ? 0 : 1;
  } finally {
    redis.disconnect();
  }
}

async function importSample(redis: Redis): Promise<number> {
  const { rows, rejected } = await readFeedbackFile(SAMPLE_FILE);
  for (const { line, reason } of rejected) console.warn(`Sample line ${line} skipped: ${reason}`);
  // Shuffled so clusters grow from interleaved themes, as live feedback arrives.
  const shuffled = seededShuffle(rows, Date.now() % 2 ** 31);
  const outcomes = await new FeedbackWriter(redis).writeMany(shuffled.map((row) => row.feedback));
  const written = outcomes.filter((o) => o.ok && o.created).length;
  console.log(`Import: wrote ${written} feedback items from ${SAMPLE_FILE}`);
  return written;
}

/** Waits until nothing is left unclustered, or only parked items are and the count holds still. */
async function waitForClustering(redis: Redis, total: number): Promise<boolean> {
  const deadline = Date.now() + CLUSTERING_TIMEOUT_MS;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const waiting = await redis.scard(FeedbackKeys.unclustered);
    if (waiting !== last) {
      last = waiting;
      lastChange = Date.now();
      progress(`Clustering: ${total - waiting}/${total} clustered, ${waiting} waiting`);
    }
    if (waiting === 0) break;
    if (Date.now() - lastChange >= PARKED_STABLE_MS) {
      const parked = await countParked(redis);
      if (parked === waiting) {
        progress(`Clustering: ${total - waiting}/${total} clustered, ${parked} parked`);
        break;
      }
    }
    if (Date.now() > deadline) {
      progress('');
      console.error(
        `Clustering: ${waiting} items still unclustered after ${CLUSTERING_TIMEOUT_MS / 1000} s.\n` +
          `--- service output ---\n${service?.output() ?? ''}`,
      );
      return false;
    }
    await sleep(250);
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  return true;
}

/** Unclustered ids the service parked as unprocessable. */
async function countParked(redis: Redis): Promise<number> {
  const ids = await redis.smembers(FeedbackKeys.unclustered);
  if (ids.length === 0) return 0;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hexists(ServiceKeys.parked, id);
  const replies = (await pipeline.exec()) ?? [];
  return replies.filter(([, exists]) => exists === 1).length;
}

/** Rewrites one status line on a terminal; prints each update on its own line elsewhere. */
function progress(text: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[2K${text}`);
  else if (text) console.log(text);
}

async function readClusters(redis: Redis): Promise<ClusterRow[]> {
  const ids = await redis.smembers(ClusterKeys.all);
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hgetall(ClusterKeys.cluster(id));
  const hashes = ((await pipeline.exec()) ?? []).map(([, hash]) => hash as Record<string, string>);
  return hashes
    .map((hash) => ({
      title: hash.title || '(untitled)',
      size: Number(hash.size) || 0,
      sources: parseSources(hash.sources),
      repoUrl: hash.github_repo_url || undefined,
      summary: hash.summary ?? '',
    }))
    .sort((a, b) => b.size - a.size || a.title.localeCompare(b.title));
}

function parseSources(raw: string | undefined): string[] {
  try {
    const value: unknown = JSON.parse(raw ?? '[]');
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

function printClusters(clusters: ClusterRow[]): void {
  console.log(`\nClusters, largest first:\n`);
  const width = String(clusters.length).length;
  clusters.forEach((cluster, index) => {
    const rank = String(index + 1).padStart(width);
    const indent = ' '.repeat(width + 2);
    console.log(`${rank}. [${cluster.size}] ${cluster.title}`);
    console.log(
      `${indent}sources: ${cluster.sources.join(', ') || '-'}` +
        (cluster.repoUrl ? `   repo: ${cluster.repoUrl}` : ''),
    );
    if (cluster.summary)
      console.log(`${indent}${truncate(cluster.summary.replace(/\s+/g, ' '), 160)}`);
  });
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

let stopping: Promise<void> | undefined;

/** Stops what the demo started; safe to call from both the normal end and Ctrl-C. */
function shutdown(): Promise<void> {
  stopping ??= (async () => {
    if (service) {
      await service.stop();
      console.log('Service: stopped');
    }
    if (throwawayRedis) {
      await throwawayRedis.stop();
      console.log('Redis: throwaway server stopped');
    }
  })();
  return stopping;
}

process.once('SIGINT', () => {
  console.log('\nInterrupted; stopping ...');
  void shutdown().finally(() => process.exit(130));
});

main()
  .catch((error: unknown) => {
    console.error(error);
    return 1;
  })
  .then(async (code) => {
    await shutdown();
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
