import { Keyspace } from '../src/redis/keyspace';
/**
 * Cluster quality on any labelled CSV, measured through the real service:
 *   npm run eval -- --dataset FILE.csv [--text-column text] [--label-column category] [--json out.json]
 *                   [--per-label 30] [--background 0.8]
 * Starts the service on a fresh Redis database, streams the rows in through the producer
 * path in random order (labels withheld), waits until every row is clustered, then compares
 * the clusters with the labels, beside k-means told the true number of labels on the very same
 * vectors. With `--background`, the service embeds through its Gemini adapter against a local
 * stand-in whose vectors put unrelated texts at that cosine (a hosted model's scale).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import Redis from 'ioredis';
import { kMeans } from '../src/eval/kmeans';
import { ari, bcubed, nmi } from '../src/eval/metrics';
import { Calibration } from '../src/calibration/calibration';
import { normalize } from '../src/math/vector-math';
import { LocalEmbedder } from '../src/providers/local/local-embedder';
import { GeminiStandIn } from '../test/stand-ins/gemini-stand-in';
import { ShiftedSemanticEmbeddings } from '../test/stand-ins/shifted-embeddings';
import { atMostPerLabel, seededRandom } from './lib/bench-support';
import { seededShuffle } from '../src/feedback/feedback-file';
import { FeedbackWriter } from '../src/feedback/feedback-writer';
import {
  pingRedis,
  startThrowawayRedis,
  withDatabase,
  DEFAULT_REDIS_URL,
} from './lib/redis-server';
import { bytesUnderPrefix } from './lib/scale-workload';
import { startService } from './lib/service-process';

interface EvalOptions {
  dataset: string;
  textColumn: string;
  labelColumn: string;
  json?: string;
  seed: string;
  source: string;
  timeout: string;
  sweep: boolean;
  perLabel?: string;
  background?: string;
}

/** Dimensions asked of the Gemini stand-in (the service's default EMBEDDING_DIMENSIONS). */
const GEMINI_DIMENSIONS = 768;

interface Figures {
  items: number;
  labels: number;
  clusters: number;
  clusters_per_label: number;
  largest_cluster_share: number;
  nmi: number;
  ari: number;
  bcubed_precision: number;
  bcubed_recall: number;
  bcubed_f1: number;
  /** Redis bytes under `clustering:` (MEMORY USAGE) per item: the 1 KB budget. */
  clustering_bytes_per_item: number;
  seconds: number;
}

/** Compares each row's cluster (read now) with its label. */
async function measure(
  redis: Redis,
  order: Record<string, string>[],
  ids: Array<string | undefined>,
  labelColumn: string,
  seconds: number,
): Promise<Figures> {
  const pipeline = redis.pipeline();
  ids.forEach((id) => id && pipeline.hget(`feedback:${id}`, 'cluster_id'));
  const clusterIds = ((await pipeline.exec()) ?? []).map(([, v]) => v as string | null);
  const gold: string[] = [];
  const predicted: string[] = [];
  let k = 0;
  order.forEach((row, i) => {
    if (!ids[i]) return;
    gold.push(row[labelColumn]);
    // An unclustered item counts as a cluster of its own.
    predicted.push(clusterIds[k++] ?? `unclustered:${i}`);
  });
  const sizes = new Map<string, number>();
  for (const p of predicted) sizes.set(p, (sizes.get(p) ?? 0) + 1);
  const labels = new Set(gold).size;
  const b = bcubed(gold, predicted);
  return {
    items: gold.length,
    labels,
    clusters: sizes.size,
    clusters_per_label: sizes.size / labels,
    largest_cluster_share: Math.max(...sizes.values()) / gold.length,
    nmi: nmi(gold, predicted),
    ari: ari(gold, predicted),
    bcubed_precision: b.precision,
    bcubed_recall: b.recall,
    bcubed_f1: b.f1,
    clustering_bytes_per_item: (await bytesUnderPrefix(redis, 'clustering:')) / gold.length,
    seconds,
  };
}

/** Runs one full sweep through the HTTP API (as an operator would) and waits for it. */
async function runFullSweep(baseUrl: string): Promise<void> {
  const headers = { 'content-type': 'application/json' };
  const created = await fetch(`${baseUrl}/cluster-jobs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ mode: 'full' }),
  });
  if (created.status !== 202) throw new Error(`POST /cluster-jobs answered ${created.status}`);
  const { id } = (await created.json()) as { id: string };
  for (;;) {
    const job = (await (await fetch(`${baseUrl}/cluster-jobs/${id}`)).json()) as {
      status: string;
      error?: string;
    };
    if (job.status === 'succeeded') return;
    if (job.status === 'failed') throw new Error(`the sweep failed: ${job.error}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function printReport(dataset: string, report: Record<string, Figures>): void {
  const phases = Object.keys(report);
  process.stdout.write(
    `dataset ${dataset}\n${''.padEnd(24)}${phases.map((p) => p.padStart(14)).join('')}\n`,
  );
  for (const key of Object.keys(report[phases[0]]) as (keyof Figures)[]) {
    const cells = phases.map((p) => {
      const value = report[p][key];
      return (Number.isInteger(value) ? String(value) : value.toFixed(3)).padStart(14);
    });
    process.stdout.write(`${key.padEnd(24)}${cells.join('')}\n`);
  }
  const stream = report.after_stream;
  process.stdout.write(
    `${'items_per_second'.padEnd(24)}${(stream.items / stream.seconds).toFixed(0).padStart(14)}\n`,
  );
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
    .option('--no-sweep', 'skip the second measurement after one full sweep')
    .option('--per-label <n>', 'use at most n rows of each label (drawn with the seed)')
    .option(
      '--background <cosine>',
      'embed through the Gemini adapter against a stand-in whose unrelated texts meet at this cosine',
    )
    .parse()
    .opts<EvalOptions>();

  const rows = parse<Record<string, string>>(readFileSync(options.dataset), {
    columns: true,
    skip_empty_lines: true,
  });
  const usable = rows.filter((r) => r[options.textColumn]?.trim() && r[options.labelColumn]);
  if (usable.length === 0)
    throw new Error(`no rows with both ${options.textColumn} and ${options.labelColumn}`);
  const labelled = options.perLabel
    ? atMostPerLabel(
        seededShuffle(usable, Number(options.seed) + 1),
        (row) => row[options.labelColumn],
        Number(options.perLabel),
      )
    : usable;
  const shifted = options.background
    ? new ShiftedSemanticEmbeddings(Number(options.background))
    : undefined;
  const gemini = shifted && (await new GeminiStandIn('eval-key', shifted).start());

  const baseUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const throwaway = (await pingRedis(baseUrl)) ? undefined : await startThrowawayRedis();
  const redisUrl = throwaway ? throwaway.url : withDatabase(baseUrl, 14);
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  const service = await startService({
    redisUrl,
    env: {
      LOG_LEVEL: 'warn',
      SWEEP_ENABLED: 'false',
      ...(gemini && {
        GEMINI_API_KEY: gemini.apiKey,
        GEMINI_BASE_URL: gemini.url,
        EMBEDDING_DIMENSIONS: String(GEMINI_DIMENSIONS),
        // The stand-in has no quota; summaries must not hold back the measurement.
        GEMINI_SUMMARIES_PER_MINUTE: '100000',
      }),
    },
  });
  try {
    const order = seededShuffle(labelled, Number(options.seed));
    const started = Date.now();
    const outcomes = await new FeedbackWriter(redis, Keyspace.flat()).writeMany(
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
    const report: Record<string, Figures> = {
      after_stream: await measure(redis, order, ids, options.labelColumn, seconds),
    };
    if (options.sweep) {
      const sweepStarted = Date.now();
      await runFullSweep(service.baseUrl);
      report.after_sweep = await measure(
        redis,
        order,
        ids,
        options.labelColumn,
        (Date.now() - sweepStarted) / 1000,
      );
    }
    const texts = order.filter((_, i) => ids[i]).map((r) => r[options.textColumn]);
    const vectors = shifted
      ? (await shifted.embed(texts, GEMINI_DIMENSIONS)).map(normalize)
      : await localVectors(texts);
    const gold = order.filter((_, i) => ids[i]).map((r) => r[options.labelColumn]);
    const k = new Set(gold).size;
    const { labels } = kMeans(vectors, k, seededRandom(Number(options.seed)));
    printReport(options.dataset, report);
    process.stdout.write(
      `${'background_cosine'.padEnd(24)}${Calibration.none.withItems(vectors).background.toFixed(3).padStart(14)}\n` +
        `k-means told k=${k} on the same vectors: ari ${ari(gold, labels).toFixed(3)}, ` +
        `nmi ${nmi(gold, labels).toFixed(3)}\n`,
    );
    if (options.json)
      writeFileSync(options.json, JSON.stringify({ dataset: options.dataset, ...report }, null, 2));
  } finally {
    await service.stop();
    await redis.quit();
    await throwaway?.stop();
    await gemini?.stop();
  }
}

/** The local embedder's vectors (what the service uses without keys). */
async function localVectors(texts: readonly string[]): Promise<Float32Array[]> {
  const outcomes = await new LocalEmbedder().embed(texts);
  return outcomes.map((o, i) => {
    if (!o.ok) throw new Error(`the local embedder cannot read row ${i}: ${o.reason}`);
    return o.vector;
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`eval failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
