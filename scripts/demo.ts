/**
 * `npm run demo`: starts the service against Redis, imports the bundled sample feedback and
 * prints the clusters it found. Needs nothing but Node and a Redis (or `redis-server` on PATH).
 */
import { Redis } from 'ioredis';
import { ThrowawayRedis, withDatabase } from './lib/redis-server';
import {
  findOrStartRedis,
  importSample,
  NoRedisError,
  printClusters,
  readClusters,
  waitForClustering,
} from './lib/sample-run';
import { runScript } from './lib/run-script';
import { ServiceProcess, ServiceStartError, startService } from './lib/service-process';

/** The demo's own database, so it never mixes with data in the default one. */
const DEMO_DB = 15;
const CLUSTERING_TIMEOUT_MS = 60_000;

let throwawayRedis: ThrowawayRedis | undefined;
let service: ServiceProcess | undefined;

async function main(): Promise<number> {
  let serverUrl: string;
  try {
    const server = await findOrStartRedis();
    serverUrl = server.url;
    throwawayRedis = server.throwaway;
  } catch (error) {
    if (!(error instanceof NoRedisError)) throw error;
    console.error(error.message);
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
    const done = await waitForClustering(redis, total, CLUSTERING_TIMEOUT_MS);
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

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Stops what the demo started (once, at the normal end or on Ctrl-C; see runScript). */
async function shutdown(): Promise<void> {
  if (service) {
    await service.stop();
    console.log('Service: stopped');
  }
  if (throwawayRedis) {
    await throwawayRedis.stop();
    console.log('Redis: throwaway server stopped');
  }
}

runScript(main, shutdown);
