import { Keyspace } from '../../src/redis/keyspace';
/**
 * Steps of a scripted run against a started service: find a Redis, import the bundled sample,
 * wait until it is clustered, print the clusters. (`scripts/stand-ins.ts` uses them.)
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { readFeedbackFile, seededShuffle } from '../../src/feedback/feedback-file';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { ClusterKeys, FeedbackKeys, ServiceKeys } from '../../src/redis/keys';
import {
  DEFAULT_REDIS_URL,
  isOnPath,
  pingRedis,
  redactRedisUrl,
  sleep,
  startThrowawayRedis,
  ThrowawayRedis,
} from './redis-server';

export const SAMPLE_FILE = join(__dirname, '../../sample/feedback.jsonl');
/** How long the unclustered count must stay put before remaining parked items count as done. */
const PARKED_STABLE_MS = 3_000;
/** Member titles printed under each cluster. */
const TITLES_SHOWN = 3;

/** The Redis server to use: the one at `REDIS_URL`, or a throwaway one (stop it at the end). */
export interface RedisServer {
  url: string;
  throwaway?: ThrowawayRedis;
}

/** Thrown when there is no Redis to use; the message says how to get one. */
export class NoRedisError extends Error {}

export async function findOrStartRedis(): Promise<RedisServer> {
  const requestedUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  if (await pingRedis(requestedUrl)) {
    console.log(`Redis: using ${redactRedisUrl(requestedUrl)}`);
    return { url: requestedUrl };
  }
  if (!isOnPath('redis-server')) {
    throw new NoRedisError(
      `No Redis answers at ${redactRedisUrl(requestedUrl)} and redis-server is not installed.\n` +
        'Get one with either of:\n' +
        '  sudo apt-get install redis-server        (then run: redis-server)\n' +
        '  docker run --rm -p 6379:6379 redis:7\n' +
        'or point REDIS_URL at a running Redis and run the script again.',
    );
  }
  console.log(
    `Redis: nothing answers at ${redactRedisUrl(requestedUrl)}; starting a throwaway one`,
  );
  const throwaway = await startThrowawayRedis();
  console.log(`Redis: throwaway server on port ${throwaway.port} (stopped at the end)`);
  return { url: throwaway.url, throwaway };
}

/** Writes the sample feedback, shuffled as live feedback arrives; returns how many were written. */
export async function importSample(redis: Redis): Promise<number> {
  const { rows, rejected } = await readFeedbackFile(SAMPLE_FILE);
  for (const { line, reason } of rejected) console.warn(`Sample line ${line} skipped: ${reason}`);
  const shuffled = seededShuffle(rows, Date.now() % 2 ** 31);
  const outcomes = await new FeedbackWriter(redis, Keyspace.flat()).writeMany(
    shuffled.map((row) => row.feedback),
  );
  const written = outcomes.filter((o) => o.ok && o.created).length;
  console.log(`Import: wrote ${written} feedback items from ${SAMPLE_FILE}`);
  return written;
}

/**
 * Waits until nothing is left unclustered, or only parked items are and the count holds
 * still; false after `timeoutMs`.
 */
export async function waitForClustering(
  redis: Redis,
  total: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const waiting = await redis.scard(FeedbackKeys.unclustered);
    if (waiting !== last) {
      last = waiting;
      lastChange = Date.now();
      console.log(`Clustering: ${total - waiting}/${total} clustered, ${waiting} waiting`);
    }
    if (waiting === 0) return true;
    if (Date.now() - lastChange >= PARKED_STABLE_MS && (await countParked(redis)) === waiting) {
      console.log(`Clustering: ${total - waiting}/${total} clustered, ${waiting} parked`);
      return true;
    }
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

async function countParked(redis: Redis): Promise<number> {
  const ids = await redis.smembers(FeedbackKeys.unclustered);
  if (ids.length === 0) return 0;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hexists(ServiceKeys.parked, id);
  const replies = (await pipeline.exec()) ?? [];
  return replies.filter(([, exists]) => exists === 1).length;
}

export interface ClusterRow {
  title: string;
  size: number;
  sources: string[];
  summary: string;
  repoUrl?: string;
  /** Titles of a few members, so the grouping can be judged whoever named the cluster. */
  memberTitles: string[];
}

/** Live clusters, largest first. */
export async function readClusters(redis: Redis): Promise<ClusterRow[]> {
  const ids = await redis.smembers(ClusterKeys.all);
  const rows: ClusterRow[] = [];
  for (const id of ids) {
    const hash = await redis.hgetall(ClusterKeys.cluster(id));
    const members = await redis.srandmember(ClusterKeys.items(id), TITLES_SHOWN);
    const titles = await Promise.all(
      members.map((member) => redis.hget(FeedbackKeys.item(member), 'title')),
    );
    rows.push({
      title: hash.title || '(untitled)',
      size: Number(hash.size) || 0,
      sources: parseSources(hash.sources),
      summary: hash.summary ?? '',
      repoUrl: hash.github_repo_url,
      memberTitles: titles.filter((title): title is string => Boolean(title)),
    });
  }
  return rows.sort((a, b) => b.size - a.size || a.title.localeCompare(b.title));
}

function parseSources(raw: string | undefined): string[] {
  try {
    const value: unknown = JSON.parse(raw ?? '[]');
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * Prints the first `limit` clusters (all by default) and how many were left out; with
 * `memberTitles`, a few member titles under each.
 */
export function printClusters(
  clusters: readonly ClusterRow[],
  { limit = clusters.length, memberTitles = false } = {},
): void {
  console.log(`\nClusters, largest first:\n`);
  const shown = clusters.slice(0, limit);
  const width = String(shown.length).length;
  const indent = ' '.repeat(width + 2);
  shown.forEach((cluster, index) => {
    console.log(`${String(index + 1).padStart(width)}. [${cluster.size}] ${cluster.title}`);
    const repo = cluster.repoUrl ? `   repo: ${cluster.repoUrl}` : '';
    console.log(`${indent}sources: ${cluster.sources.join(', ') || '-'}${repo}`);
    if (cluster.summary) console.log(`${indent}${truncate(oneLine(cluster.summary), 160)}`);
    if (!memberTitles) return;
    for (const title of cluster.memberTitles) console.log(`${indent}- ${truncate(title, 100)}`);
  });
  if (clusters.length > shown.length) {
    console.log(`${indent}… and ${clusters.length - shown.length} smaller clusters`);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
