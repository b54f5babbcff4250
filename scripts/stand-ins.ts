/**
 * `npm run demo:providers`: the demo flow with the real-provider adapters, against local
 * stand-ins for Gemini and Upstash Vector (no keys, no network). Starts both stand-ins, starts
 * the service configured for them, imports the sample feedback, prints the clusters and what
 * the providers saw, and stops everything. The stand-ins make some trouble on purpose: the
 * first embedding calls are rate limited, and Upstash shows upserts only after a delay.
 */
import { Redis } from 'ioredis';
import { GeminiStandIn } from '../test/stand-ins/gemini-stand-in';
import { ShiftedSemanticEmbeddings } from '../test/stand-ins/shifted-embeddings';
import { UpstashStandIn } from '../test/stand-ins/upstash-stand-in';
import { ClusterKeys, ServiceKeys } from '../src/redis/keys';
import { sleep, withDatabase } from './lib/redis-server';
import {
  findOrStartRedis,
  importSample,
  NoRedisError,
  printClusters,
  readClusters,
  RedisServer,
  waitForClustering,
} from './lib/sample-run';
import { runScript } from './lib/run-script';
import { ServiceProcess, ServiceStartError, startService } from './lib/service-process';

/** The demo's database (as `npm run demo`), emptied first. */
const DEMO_DB = 15;
const DIMENSIONS = 768;
const RATE_LIMITED_CALLS = 2;
const VISIBILITY_DELAY_MS = 2_000;
const CLUSTERING_TIMEOUT_MS = 90_000;
const SUMMARIES_TIMEOUT_MS = 30_000;
const CLUSTERS_SHOWN = 15;
/** Where the stand-in puts unrelated texts (a hosted model's scale; the service calibrates). */
const STAND_IN_BACKGROUND = 0.65;

let redisServer: RedisServer | undefined;
let gemini: GeminiStandIn | undefined;
let upstash: UpstashStandIn | undefined;
let service: ServiceProcess | undefined;

async function main(): Promise<number> {
  try {
    redisServer = await findOrStartRedis();
  } catch (error) {
    if (!(error instanceof NoRedisError)) throw error;
    console.error(error.message);
    return 1;
  }
  gemini = await new GeminiStandIn(
    'stand-in-gemini-key',
    new ShiftedSemanticEmbeddings(STAND_IN_BACKGROUND),
  ).start();
  gemini.inject({ kind: 'rate_limit', retryDelay: '1s' }, RATE_LIMITED_CALLS, 'embed');
  upstash = await new UpstashStandIn(DIMENSIONS, 'stand-in-upstash-token').start();
  upstash.visibilityDelayMs = VISIBILITY_DELAY_MS;
  console.log(
    `Gemini stand-in: ${gemini.url} (the first ${RATE_LIMITED_CALLS} embedding calls answer 429, retry in 1 s)`,
  );
  console.log(
    `Upstash stand-in: ${upstash.url} (${DIMENSIONS}-d cosine index; upserts visible after ${VISIBILITY_DELAY_MS / 1000} s)`,
  );

  const redisUrl = withDatabase(redisServer.url, DEMO_DB);
  const redis = new Redis(redisUrl);
  try {
    await redis.flushdb();
    console.log(`Redis: emptied database ${DEMO_DB} (the demo's own) with FLUSHDB`);
    console.log('Service: starting src/main.ts with GEMINI_* and UPSTASH_* set ...');
    try {
      service = await startService({
        redisUrl,
        env: {
          LOG_LEVEL: 'info',
          GEMINI_API_KEY: gemini.apiKey,
          GEMINI_BASE_URL: gemini.url,
          UPSTASH_VECTOR_REST_URL: upstash.url,
          UPSTASH_VECTOR_REST_TOKEN: upstash.token,
          EMBEDDING_DIMENSIONS: String(DIMENSIONS),
          // The stand-in has no quota: name every cluster without waiting for the rate limit.
          GEMINI_SUMMARIES_PER_MINUTE: '6000',
          SWEEP_ENABLED: 'false',
        },
      });
    } catch (error) {
      if (!(error instanceof ServiceStartError)) throw error;
      console.error(`Service: ${error.message}\n--- service output ---\n${error.output}`);
      return 1;
    }
    console.log(`Service: ready at ${service.baseUrl}`);
    for (const line of providerChoices(service.output())) console.log(`  ${line}`);

    const started = Date.now();
    const total = await importSample(redis);
    const done = await waitForClustering(redis, total, CLUSTERING_TIMEOUT_MS);
    if (!done) {
      console.error(`--- service output ---\n${service.output()}`);
      return 1;
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    await waitForSummaries(redis);
    const clusters = await readClusters(redis);
    console.log(
      'Cluster titles come from the Gemini stand-in, which names every cluster in the same ' +
        'form; the member titles under each show what was grouped.',
    );
    printClusters(clusters, { limit: CLUSTERS_SHOWN, memberTitles: true });
    console.log(`\n${total} items → ${clusters.length} clusters, clustered in ${seconds} s`);
    printProviderTraffic(gemini, upstash);
    console.log('\nGET /health/ready (providers):');
    console.log(await providersReadiness(service.baseUrl));
    return 0;
  } finally {
    redis.disconnect();
  }
}

/** Waits until every live cluster has had its summary (they follow the clustering). */
async function waitForSummaries(redis: Redis): Promise<void> {
  const deadline = Date.now() + SUMMARIES_TIMEOUT_MS;
  for (;;) {
    const live = await redis.smembers(ClusterKeys.all);
    const named = live.length === 0 ? [] : await redis.hmget(ServiceKeys.summarizedAt, ...live);
    const done = named.filter((size) => size !== null).length;
    if (done === live.length || Date.now() > deadline) {
      console.log(`Summaries: ${done}/${live.length} clusters named by the Gemini stand-in`);
      return;
    }
    await sleep(250);
  }
}

/** The service's log lines saying which adapters it chose. */
function providerChoices(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { context?: unknown; msg?: unknown };
      return entry.context === 'ProvidersModule' && typeof entry.msg === 'string'
        ? [entry.msg]
        : [];
    } catch {
      return [];
    }
  });
}

function printProviderTraffic(geminiStandIn: GeminiStandIn, upstashStandIn: UpstashStandIn): void {
  const embeds = geminiStandIn.calls('embed');
  const limited = embeds.filter((call) => call.answer === 429).length;
  console.log('\nWhat the providers saw:');
  console.log(
    `  Gemini: ${embeds.length} embedding calls (${limited} answered 429 and were retried), ` +
      `${geminiStandIn.calls('generate').length} summaries`,
  );
  console.log(
    `  Upstash: ${upstashStandIn.ids('centroids').length} centroids in namespace "centroids", ` +
      `${upstashStandIn.ids('items').length} item vectors in "items" (copied only with UPSTASH_STORE_ITEM_VECTORS=true)`,
  );
}

async function providersReadiness(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/health/ready`);
  const { details } = (await response.json()) as { details?: Record<string, unknown> };
  const shown = ['embedder', 'vector_index', 'summarizer'].map(
    (key) => `  ${key}: ${JSON.stringify(details?.[key])}`,
  );
  return [`  HTTP ${response.status}`, ...shown].join('\n');
}

/** Stops what the script started (once, at the normal end or on Ctrl-C; see runScript). */
async function shutdown(): Promise<void> {
  if (service) {
    await service.stop();
    console.log('Service: stopped');
  }
  await gemini?.stop();
  await upstash?.stop();
  if (redisServer?.throwaway) {
    await redisServer.throwaway.stop();
    console.log('Redis: throwaway server stopped');
  }
}

runScript(main, shutdown);
