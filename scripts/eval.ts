/**
 * Cluster quality on any labelled CSV, measured through the real service:
 *   npm run eval -- --dataset FILE.csv [--text-column text] [--label-column category] [--json out.json]
 * Starts the service on a fresh Redis database, streams the rows in through the producer
 * path in random order (labels withheld), waits until every row is clustered, then compares
 * the clusters with the labels.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import Redis from 'ioredis';
import { ari, bcubed, nmi } from '../src/eval/metrics';
import { seededShuffle } from '../src/feedback/feedback-file';
import { FeedbackWriter } from '../src/feedback/feedback-writer';
import {
  pingRedis,
  startThrowawayRedis,
  withDatabase,
  DEFAULT_REDIS_URL,
} from './lib/redis-server';
import { startService } from './lib/service-process';

interface EvalOptions {
  dataset: string;
  textColumn: string;
  labelColumn: string;
  json?: string;
  seed: string;
  source: string;
  timeout: string;
}

async function main(): Promise<void> {
  const options = new Command()
    .requiredOption('--dataset <file>', 'labelled CSV file')
    .option('--text-column <name>', 'column holding the text', 'text')
    .option('--label-column <name>', 'column holding the label', 'category')
    .option('--source <name>', 'source given to every row', 'manual')
    .option('--seed <n>', 'seed of the arrival order', '42')
    .option('--timeout <seconds>', 'give up after this long', '600')
    .option('--json <file>', 'also write the figures as JSON')
    .parse()
    .opts<EvalOptions>();

  const rows = parse<Record<string, string>>(readFileSync(options.dataset), {
    columns: true,
    skip_empty_lines: true,
  });
  const labelled = rows.filter((r) => r[options.textColumn]?.trim() && r[options.labelColumn]);
  if (labelled.length === 0)
    throw new Error(`no rows with both ${options.textColumn} and ${options.labelColumn}`);

  const baseUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const throwaway = (await pingRedis(baseUrl)) ? undefined : await startThrowawayRedis();
  const redisUrl = throwaway ? throwaway.url : withDatabase(baseUrl, 14);
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  const service = await startService({
    redisUrl,
    env: { LOG_LEVEL: 'warn', SWEEP_ENABLED: 'false' },
  });
  try {
    const order = seededShuffle(labelled, Number(options.seed));
    const started = Date.now();
    const outcomes = await new FeedbackWriter(redis).writeMany(
      order.map((r) => ({ source: options.source, title: r[options.textColumn] })),
    );
    const ids = outcomes.map((o) => (o.ok ? o.id : undefined));
    const deadline = started + Number(options.timeout) * 1000;
    for (;;) {
      const waiting = await redis.scard('feedback:unclustered');
      const parked = await redis.hlen('clustering:parked');
      if (waiting <= parked) break;
      if (Date.now() > deadline)
        throw new Error(`${waiting} items still unclustered after ${options.timeout} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - started) / 1000;

    const gold: string[] = [];
    const predicted: string[] = [];
    const pipeline = redis.pipeline();
    ids.forEach((id) => id && pipeline.hget(`feedback:${id}`, 'cluster_id'));
    const clusterIds = ((await pipeline.exec()) ?? []).map(([, v]) => v as string | null);
    let k = 0;
    order.forEach((row, i) => {
      if (!ids[i]) return;
      const clusterId = clusterIds[k++];
      gold.push(row[options.labelColumn]);
      // An unclustered item counts as a cluster of its own.
      predicted.push(clusterId ?? `unclustered:${i}`);
    });
    const sizes = new Map<string, number>();
    for (const p of predicted) sizes.set(p, (sizes.get(p) ?? 0) + 1);
    const b = bcubed(gold, predicted);
    const figures = {
      dataset: options.dataset,
      items: gold.length,
      labels: new Set(gold).size,
      clusters: sizes.size,
      clusters_per_label: sizes.size / new Set(gold).size,
      largest_cluster_share: Math.max(...sizes.values()) / gold.length,
      nmi: nmi(gold, predicted),
      ari: ari(gold, predicted),
      bcubed_precision: b.precision,
      bcubed_recall: b.recall,
      bcubed_f1: b.f1,
      seconds,
      items_per_second: gold.length / seconds,
    };
    const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));
    for (const [key, value] of Object.entries(figures)) {
      process.stdout.write(`${key.padEnd(22)} ${typeof value === 'number' ? fmt(value) : value}\n`);
    }
    if (options.json) writeFileSync(options.json, JSON.stringify(figures, null, 2));
  } finally {
    await service.stop();
    await redis.quit();
    await throwaway?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`eval failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
