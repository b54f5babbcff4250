/**
 * `npm run demo`: starts the service against Redis, imports the bundled sample feedback and
 * prints the clusters it found, the trending list and the alerts a local webhook receiver got.
 * Needs nothing but Node and a Redis (or `redis-server` on PATH).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { AlertReceiver } from './lib/alert-receiver';
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
let receiver: AlertReceiver | undefined;

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
      const secret = randomBytes(16).toString('hex');
      receiver = new AlertReceiver(secret);
      const webhookUrl = await receiver.start();
      service = await startService({
        redisUrl,
        env: { WEBHOOK_URL: webhookUrl, WEBHOOK_SECRET: secret, ALERT_SIZES: '10,25' },
      });
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
    await printTrendsAndAlerts(service.baseUrl, receiver);
    return done ? 0 : 1;
  } finally {
    redis.disconnect();
  }
}

/** The five most trending clusters, then the alerts received (given a few seconds to arrive). */
async function printTrendsAndAlerts(baseUrl: string, alerts: AlertReceiver): Promise<void> {
  const response = await fetch(`${baseUrl}/trends/clusters?sort=trending&limit=5`);
  const page = (await response.json()) as { items: Array<Record<string, unknown>> };
  console.log('\nGET /trends/clusters?sort=trending&limit=5');
  for (const c of page.items) {
    console.log(
      `  ${String(c.growth_24h).padStart(4)} in 24 h, ${String(c.growth_7d).padStart(4)} in 7 d, ` +
        `score ${Number(c.trend_score).toFixed(1)}${c.emerging ? ', emerging' : ''}: ${String(c.title)}`,
    );
  }
  const deadline = Date.now() + 5000;
  let seen = -1;
  // Alerts are sent in the background: wait until none arrived for a second.
  while (Date.now() < deadline && seen !== alerts.alerts.length) {
    seen = alerts.alerts.length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const verified = alerts.alerts.filter((a) => a.verified).length;
  console.log(
    `\nWebhook: ${alerts.alerts.length} alerts received, ${verified} with a valid signature`,
  );
  for (const { body } of alerts.alerts.slice(0, 5)) {
    const cluster = body.cluster as Record<string, unknown>;
    const what =
      body.type === 'cluster.size_reached' ? `size ${String(body.threshold)}` : 'emerging';
    console.log(
      `  ${String(body.type)} (${what}): ${String(cluster.title)}, ${String(cluster.size)} items`,
    );
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
  if (receiver) await receiver.stop();
  if (throwawayRedis) {
    await throwawayRedis.stop();
    console.log('Redis: throwaway server stopped');
  }
}

runScript(main, shutdown);
