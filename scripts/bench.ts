import { Keyspace } from '../src/redis/keyspace';
/**
 * The speed instrument: the stream pipeline on the embedded defaults, under load.
 *   npm run bench -- [--items 20000] [--runs 3] [--rate 200] [--seconds 20]
 *                    [--memory-items 100000] [--skip-memory] [--json out.json]
 * Phases (each on a fresh Redis; a throwaway redis-server when one is installed):
 *   throughput  N items written through the producer path as fast as possible; items/s from
 *               write start to the last item's clustered_at
 *   latency     items produced at a fixed rate; per item clustered_at − the event's ts
 *   scale       in process: candidates() + assignBatch() per item with 500 and 50,000 clusters
 *   memory      the throughput flow once with 100,000 items: the service's peak RSS, Redis memory
 *   production, outage   (not run by default) the Gemini and Upstash adapters against the
 *               stand-ins: see scripts/lib/production-path.ts
 * Each bar of the issue "Measure and reach" is printed with PASS/FAIL; medians over --runs.
 */
import 'reflect-metadata';
import { Calibration } from '../src/calibration/calibration';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import Redis from 'ioredis';
import { ClusterStateStore } from '../src/clusters/cluster-state.store';
import { clusteringParams } from '../src/config/clustering-params';
import { Environment } from '../src/config/environment';
import { FeedbackWriter, NewFeedback } from '../src/feedback/feedback-writer';
import { assignBatch, AssignParams, ItemToAssign } from '../src/pipeline/assign/assign-batch';
import { normalize } from '../src/math/vector-math';
import {
  EmbeddedVectorIndex,
  EXACT_SCAN_LIMIT,
} from '../src/providers/embedded/embedded-vector-index';
import { LocalEmbedder } from '../src/providers/local/local-embedder';
import { FeedbackKeys } from '../src/redis/keys';
import {
  blend,
  CleanupStack,
  histogramTotals,
  median,
  percentile,
  randomUnitVector,
  seedClusters,
  seededRandom,
  SeededCluster,
} from './lib/bench-support';
import {
  buildServiceInto,
  readProcessCpuSeconds,
  readProcessMemory,
  REPO_ROOT,
  sampleRss,
  ServiceMode,
  startNodeService,
} from './lib/built-service';
import {
  DEFAULT_REDIS_URL,
  isOnPath,
  pingRedis,
  redactRedisUrl,
  sleep,
  startThrowawayRedis,
  withDatabase,
} from './lib/redis-server';
import {
  bytesUnderPrefix,
  probeLiveness,
  runFullSweep,
  stackOverflowTitles,
} from './lib/scale-workload';
import { ServiceProcess, ServiceStartError } from './lib/service-process';
import { clusteredAt, eventToClusteredMs, produceAtRate } from './lib/stream-timing';
import {
  BenchHooks,
  OutageRun,
  outageRun,
  ProductionRun,
  productionRun,
} from './lib/production-path';

/** The issue's bars (2-core machine). */
const BARS = {
  throughputItemsPerSecond: 1000,
  latencyP99Ms: 1000,
  scaleRatio: 3,
  peakRssBytes: 1e9,
};
const SERVICE_ENV = { LOG_LEVEL: 'warn', SWEEP_ENABLED: 'false' };
const FALLBACK_DB = 15;
const OBSERVER_GROUP = 'bench-observer';

interface BenchOptions {
  items: string;
  runs: string;
  rate: string;
  seconds: string;
  memoryItems: string;
  skipMemory?: boolean;
  json?: string;
  dataset: string;
  service: ServiceMode;
  phases: string;
  queries: string;
  scaleSizes: string;
  sweepItems: string;
  millionItems: string;
  millionClusters: string;
  cpuProf?: string;
  seed: string;
  timeout: string;
  summaryLatencyMs: string;
  productionItems: string;
  outageItems: string;
  outageSeconds: string;
}

const cleanup = new CleanupStack();
const out = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (x: number, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a';
const mib = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${fmt(bytes / 2 ** 20)} MiB`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

/** The commit, and the files under src/ that differ from it (what the service was built from). */
function sourceState(): string {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).stdout ?? '';
  const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean);
  const head = git('rev-parse', '--short', 'HEAD').trim() || 'unknown';
  return changed.length === 0
    ? `commit ${head}, src clean`
    : `commit ${head} + ${changed.length} changed file(s) under src: ${changed.map((l) => l.slice(3)).join(', ')}`;
}

/** The 1-minute load average, with a warning when other work competes for the cores. */
function loadNote(): string {
  const load = loadavg()[0];
  const busy = load > cpus().length * 0.75;
  return `load average ${fmt(load, 2)}${busy ? ' (other work is running on this machine: figures are pessimistic)' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Redis and the service

interface FreshRedis {
  url: string;
  /** Stops the throwaway server (or does nothing for the fallback database). */
  release(): Promise<void>;
}

/** A Redis nobody else uses: a throwaway redis-server, else database 15 of REDIS_URL, flushed. */
async function freshRedis(): Promise<FreshRedis> {
  if (isOnPath('redis-server')) {
    const server = await startThrowawayRedis();
    return { url: server.url, release: cleanup.add(() => server.stop()) };
  }
  const url = withDatabase(process.env.REDIS_URL ?? DEFAULT_REDIS_URL, FALLBACK_DB);
  if (!(await pingRedis(url))) {
    throw new Error(`no redis-server on PATH and no Redis answering at ${redactRedisUrl(url)}`);
  }
  const redis = new Redis(url);
  await redis.flushdb();
  await redis.quit();
  return { url, release: async () => undefined };
}

interface Harness {
  mainPath?: string;
  options: BenchOptions;
}

async function startBenchService(
  harness: Harness,
  redisUrl: string,
  nodeArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<{ service: ServiceProcess; stop(): Promise<void> }> {
  const service = await startNodeService({
    redisUrl,
    mainPath: harness.mainPath,
    nodeArgs,
    env: { ...SERVICE_ENV, ...env },
  });
  // Gracefully (a CPU profile is written at exit), but quickly when interrupted.
  const stop = cleanup.add(() => service.stop(cleanup.interrupted ? 3000 : 30_000));
  return { service, stop };
}

/** A connection that is closed by the clean-up stack at the latest. */
function connect(url: string): { redis: Redis; close(): Promise<void> } {
  const redis = new Redis(url);
  const close = cleanup.add(() => redis.quit().catch(() => redis.disconnect()));
  return { redis, close };
}

async function redisInfo(redis: Redis): Promise<Map<string, string>> {
  const text = await redis.info();
  return new Map(
    text
      .split('\r\n')
      .filter((line) => line.includes(':') && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redisInfo(redis);
  return Number(info.get('used_cpu_user') ?? 0) + Number(info.get('used_cpu_sys') ?? 0);
}

/** Waits until every announced item is clustered or parked. */
async function waitUntilClustered(
  redis: Redis,
  service: ServiceProcess,
  timeoutSeconds: number,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const [waiting, parked] = await Promise.all([
      redis.scard(FeedbackKeys.unclustered),
      redis.hlen('clustering:parked'),
    ]);
    if (waiting <= parked) return;
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      throw new Error(
        `the service exited while ${waiting} items were waiting:\n${service.output()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`${waiting - parked} items still unclustered after ${timeoutSeconds} s`);
    }
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// Workload

/** banking77-style short texts, shuffled, cycled to `count`, each with a random suffix word. */
function makeItems(texts: readonly string[], count: number, random: () => number): NewFeedback[] {
  const order = [...texts];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return Array.from({ length: count }, (_, i) => ({
    source: 'manual',
    title: `${order[i % order.length]} ${randomWord(random)}`,
  }));
}

function randomWord(random: () => number): string {
  let word = '';
  for (let i = 0; i < 6; i++) word += String.fromCharCode(97 + Math.floor(random() * 26));
  return word;
}

function loadTexts(dataset: string): string[] {
  const rows = parse<Record<string, string>>(readFileSync(dataset), {
    columns: true,
    skip_empty_lines: true,
  });
  const texts = rows.map((r) => r.text?.trim()).filter((t): t is string => Boolean(t));
  if (texts.length === 0) throw new Error(`${dataset}: no rows with a "text" column`);
  return texts;
}

async function scrapeBatchMetrics(service: ServiceProcess) {
  try {
    const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
    const sizes = histogramTotals(text, 'clustering_batch_size');
    const durations = histogramTotals(text, 'clustering_batch_duration_seconds');
    const sum = (rows: Array<{ sum: number; count: number }>, key: 'sum' | 'count') =>
      rows.reduce((total, row) => total + row[key], 0);
    const batches = sum(sizes, 'count');
    return {
      batches,
      mean_batch_items: batches ? sum(sizes, 'sum') / batches : NaN,
      mean_batch_ms: batches ? (sum(durations, 'sum') / sum(durations, 'count')) * 1000 : NaN,
      busy_seconds: sum(durations, 'sum'),
    };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 1 and 4: throughput (and memory)

interface ThroughputRun {
  items: number;
  clustered: number;
  clusters: number;
  write_seconds: number;
  seconds: number;
  items_per_second: number;
  service_cpu_seconds?: number;
  redis_cpu_seconds: number;
  service_peak_rss_bytes?: number;
  service_sampled_max_rss_bytes: number;
  redis_used_memory_bytes: number;
  redis_used_memory_human: string;
  batches?: Awaited<ReturnType<typeof scrapeBatchMetrics>>;
}

async function throughputRun(
  harness: Harness,
  texts: readonly string[],
  count: number,
  seed: number,
  nodeArgs: string[] = [],
): Promise<ThroughputRun> {
  const db = await freshRedis();
  const { service, stop } = await startBenchService(harness, db.url, nodeArgs);
  const { redis, close } = connect(db.url);
  try {
    const items = makeItems(texts, count, seededRandom(seed));
    const pid = service.child.pid;
    const cpuBefore = readProcessCpuSeconds(pid);
    const redisCpuBefore = await redisCpuSeconds(redis);
    const sampler = sampleRss(pid);
    const started = Date.now();
    const outcomes = await new FeedbackWriter(redis, Keyspace.flat()).writeMany(items);
    const writeSeconds = (Date.now() - started) / 1000;
    const ids = outcomes.flatMap((o) => (o.ok ? [o.id] : []));
    await waitUntilClustered(redis, service, Number(harness.options.timeout));
    const sampledMax = sampler.stop();
    const cpuAfter = readProcessCpuSeconds(pid);
    const times = await clusteredAt(redis, ids);
    const done = times.filter((t) => Number.isFinite(t));
    const last = done.reduce((a, b) => Math.max(a, b), started);
    const seconds = (last - started) / 1000;
    const info = await redisInfo(redis);
    const run: ThroughputRun = {
      items: ids.length,
      clustered: done.length,
      clusters: await redis.scard('clusters:all'),
      write_seconds: writeSeconds,
      seconds,
      items_per_second: done.length / seconds,
      service_cpu_seconds:
        cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
      redis_cpu_seconds: (await redisCpuSeconds(redis)) - redisCpuBefore,
      service_peak_rss_bytes: readProcessMemory(pid).peakRss,
      service_sampled_max_rss_bytes: sampledMax,
      redis_used_memory_bytes: Number(info.get('used_memory') ?? NaN),
      redis_used_memory_human: info.get('used_memory_human') ?? 'n/a',
      batches: await scrapeBatchMetrics(service),
    };
    return run;
  } finally {
    await close();
    await stop();
    await db.release();
  }
}

function describeThroughputRun(label: string, r: ThroughputRun): string {
  const cpu = r.service_cpu_seconds;
  const b = r.batches;
  return (
    `  ${label}: ${fmt(r.clustered)}/${fmt(r.items)} items in ${fmt(r.seconds, 2)} s = ` +
    `${fmt(r.items_per_second)} items/s (written in ${fmt(r.write_seconds, 2)} s; ` +
    `${fmt(r.clusters)} clusters; CPU service ${cpu === undefined ? 'n/a' : fmt(cpu, 1)} s, ` +
    `redis ${fmt(r.redis_cpu_seconds, 1)} s; ` +
    (b
      ? `${fmt(b.batches)} batches, mean ${fmt(b.mean_batch_items)} items / ${fmt(b.mean_batch_ms)} ms; `
      : '') +
    `peak RSS ${mib(r.service_peak_rss_bytes)})`
  );
}

// ---------------------------------------------------------------------------------------------
// Phase 2: latency

interface LatencyRun {
  produced: number;
  measured: number;
  arrival_rate: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  clusters: number;
}

async function latencyRun(
  harness: Harness,
  texts: readonly string[],
  rate: number,
  seconds: number,
  seed: number,
): Promise<LatencyRun> {
  const db = await freshRedis();
  const { redis, close } = connect(db.url);
  // A group that reads nothing keeps the trimmer from removing events before we read their ts.
  await redis.xgroup('CREATE', FeedbackKeys.events, OBSERVER_GROUP, '0', 'MKSTREAM');
  const { service, stop } = await startBenchService(harness, db.url);
  try {
    const total = Math.round(rate * seconds);
    const items = makeItems(texts, total, seededRandom(seed));
    const { ids, seconds: produceSeconds } = await produceAtRate(
      new FeedbackWriter(redis, Keyspace.flat()),
      items,
      rate,
    );
    await waitUntilClustered(redis, service, Number(harness.options.timeout));
    const latencies = await eventToClusteredMs(redis, ids);
    return {
      produced: ids.length,
      measured: latencies.length,
      arrival_rate: ids.length / produceSeconds,
      p50_ms: percentile(latencies, 50),
      p95_ms: percentile(latencies, 95),
      p99_ms: percentile(latencies, 99),
      max_ms: percentile(latencies, 100),
      clusters: await redis.scard('clusters:all'),
    };
  } finally {
    await close();
    await stop();
    await db.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 3: assignment cost at scale (in process)

interface ScaleQueryFigures {
  per_item_us: number;
  candidates_us: number;
  assign_us: number;
  /** Share of queries that joined an existing cluster (the rest founded new ones). */
  joined_share: number;
  /** For queries made near a known cluster: share assigned to exactly that cluster. */
  found_own_cluster_share?: number;
}

interface ScaleFigures {
  clusters: number;
  indexed: number;
  mode: string;
  seed_seconds: number;
  refresh_seconds: number;
  near: ScaleQueryFigures;
  texts: ScaleQueryFigures;
}

async function timeAssignment(
  index: EmbeddedVectorIndex,
  queries: readonly Float32Array[],
  params: AssignParams,
  k: number,
  runs: number,
  expected?: readonly string[],
): Promise<ScaleQueryFigures> {
  const BATCH = 256;
  const perRun: Array<{ candidates: number; assign: number; joined: number; own: number }> = [];
  const calibration = Calibration.none.withItems(queries);
  // One untimed pass first, so that the JIT has seen the code.
  for (let run = 0; run <= runs; run++) {
    let candidatesNs = 0n;
    let assignNs = 0n;
    let joined = 0;
    let own = 0;
    for (let start = 0; start < queries.length; start += BATCH) {
      const vectors = queries.slice(start, start + BATCH);
      const items: ItemToAssign[] = vectors.map((vector, i) => ({ id: `q${start + i}`, vector }));
      const t0 = process.hrtime.bigint();
      const candidates = await index.candidates(vectors, k);
      const t1 = process.hrtime.bigint();
      const plan = assignBatch(items, candidates, params, calibration, randomUUID);
      const t2 = process.hrtime.bigint();
      candidatesNs += t1 - t0;
      assignNs += t2 - t1;
      const created = new Set(plan.changes.filter((c) => c.created).map((c) => c.state.id));
      plan.assignments.forEach((a, i) => {
        if (!created.has(a.clusterId)) joined++;
        if (expected && a.clusterId === expected[start + i]) own++;
      });
    }
    if (run > 0) {
      perRun.push({ candidates: Number(candidatesNs), assign: Number(assignNs), joined, own });
    }
  }
  const us = (ns: number) => ns / 1000 / queries.length;
  const candidatesUs = median(perRun.map((r) => us(r.candidates)));
  const assignUs = median(perRun.map((r) => us(r.assign)));
  return {
    per_item_us: median(perRun.map((r) => us(r.candidates + r.assign))),
    candidates_us: candidatesUs,
    assign_us: assignUs,
    joined_share: perRun[0].joined / queries.length,
    found_own_cluster_share: expected ? perRun[0].own / queries.length : undefined,
  };
}

async function scalePhase(
  texts: readonly string[],
  sizes: readonly number[],
  queryCount: number,
  runs: number,
  seed: number,
): Promise<ScaleFigures[]> {
  const params = clusteringParams(new Environment()).assign;
  const embedder = new LocalEmbedder();
  const random = seededRandom(seed);
  const textQueries = (
    await embedder.embed(makeItems(texts, queryCount, random).map((i) => i.title ?? ''))
  ).flatMap((o) => (o.ok ? [o.vector] : []));
  const db = await freshRedis();
  const { redis, close } = connect(db.url);
  const results: ScaleFigures[] = [];
  try {
    for (const size of sizes) {
      await redis.flushdb();
      const seedStarted = Date.now();
      const seeded: SeededCluster[] = await seedClusters(
        redis,
        size,
        embedder.dimensions,
        embedder.model,
        random,
      );
      const seedSeconds = (Date.now() - seedStarted) / 1000;
      const index = new EmbeddedVectorIndex(
        new ClusterStateStore(redis, Keyspace.flat()),
        embedder.model,
        embedder.dimensions,
      );
      const refreshStarted = Date.now();
      await index.refresh();
      const refreshSeconds = (Date.now() - refreshStarted) / 1000;
      // Queries at cosine ≈ 0.8 from a random seeded cluster's centroid: they should join it.
      const targets = Array.from({ length: queryCount }, () => seeded[Math.floor(random() * size)]);
      const nearQueries = targets.map((t) =>
        normalize(blend(normalize(t.centroid), randomUnitVector(embedder.dimensions, random), 0.8)),
      );
      const k = params.candidatesK;
      const near = await timeAssignment(
        index,
        nearQueries,
        params,
        k,
        runs,
        targets.map((t) => t.id),
      );
      const textFigures = await timeAssignment(index, textQueries, params, k, runs);
      results.push({
        clusters: size,
        indexed: index.size(),
        mode:
          size <= EXACT_SCAN_LIMIT
            ? `exact scan (≤ ${EXACT_SCAN_LIMIT} clusters)`
            : 'sketch graph + exact re-rank',
        seed_seconds: seedSeconds,
        refresh_seconds: refreshSeconds,
        near,
        texts: textFigures,
      });
      const r = results[results.length - 1];
      out(
        `  ${fmt(size)} clusters (${r.mode}): index load (refresh) ${fmt(refreshSeconds, 2)} s; ` +
          `near-cluster queries ${fmt(near.per_item_us, 1)} µs/item ` +
          `(candidates ${fmt(near.candidates_us, 1)} + assign ${fmt(near.assign_us, 1)}; ` +
          `${fmt(100 * (near.found_own_cluster_share ?? NaN), 1)}% found their cluster); ` +
          `banking77 queries ${fmt(textFigures.per_item_us, 1)} µs/item ` +
          `(${fmt(100 * textFigures.joined_share, 1)}% joined)`,
      );
    }
  } finally {
    await close();
    await db.release();
  }
  return results;
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Phase 5: stream then full sweep (the scale acceptance), and Phase 6: a million items

interface SweepRun {
  items: number;
  clustered: number;
  clusters_before_sweep: number;
  clusters_after_sweep: number;
  stream_seconds: number;
  sweep_seconds: number;
  sweep_stats: Record<string, number>;
  sweep_status: string;
  /** Longest /health/live wait while the items streamed in, and during the sweep. */
  live_max_wait_stream_ms: number;
  live_max_wait_ms: number;
  live_p99_wait_ms: number;
  /** The service's own longest event-loop delay during the sweep (monitorEventLoopDelay). */
  sweep_event_loop_max_ms: number;
  clustering_bytes: number;
  clustering_bytes_per_item: number;
  redis_used_memory_bytes: number;
  service_rss_bytes?: number;
  lost_items: number;
}

/**
 * The service's longest event-loop delay since the last scrape (prom-client's
 * `nodejs_eventloop_lag_max_seconds`, measured with monitorEventLoopDelay and reset per scrape).
 */
async function eventLoopMaxMs(service: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
  const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return match ? Number(match[1]) * 1000 : NaN;
}

/** Items in no live cluster, or still waiting, or in a cluster their hash does not name. */
async function lostItems(redis: Redis, ids: readonly string[]): Promise<number> {
  let lost = 0;
  const CHUNK = 2000;
  for (let start = 0; start < ids.length; start += CHUNK) {
    const chunk = ids.slice(start, start + CHUNK);
    const read = redis.pipeline();
    for (const id of chunk) read.hmget(FeedbackKeys.item(id), 'clustered', 'cluster_id');
    const hashes = (await read.exec()) ?? [];
    const check = redis.pipeline();
    chunk.forEach((id, i) => {
      const [, clusterId] = hashes[i][1] as (string | null)[];
      check.sismember(`cluster:items:${clusterId ?? '-'}`, id);
      check.sismember('clusters:all', clusterId ?? '-');
    });
    const checks = (await check.exec()) ?? [];
    chunk.forEach((_, i) => {
      const [clustered] = hashes[i][1] as (string | null)[];
      if (clustered !== 'true' || checks[2 * i][1] !== 1 || checks[2 * i + 1][1] !== 1) lost++;
    });
  }
  return lost + (await redis.scard(FeedbackKeys.unclustered));
}

/** `count` StackOverflow-like titles streamed through the producer path, then one full sweep. */
async function sweepRun(harness: Harness, count: number, seed: number): Promise<SweepRun> {
  const db = await freshRedis();
  const { service, stop } = await startBenchService(harness, db.url);
  const { redis, close } = connect(db.url);
  try {
    const probe = probeLiveness(service.baseUrl);
    const titles = stackOverflowTitles(count, seededRandom(seed));
    const started = Date.now();
    const outcomes = await new FeedbackWriter(redis, Keyspace.flat()).writeMany(
      titles.map((title) => ({ source: 'manual', title })),
    );
    const ids = outcomes.flatMap((o) => (o.ok ? [o.id] : []));
    await waitUntilClustered(redis, service, Number(harness.options.timeout));
    const streamSeconds = (Date.now() - started) / 1000;
    const clustersBefore = await redis.scard('clusters:all');
    const streamWaits = await probe.stop();
    await eventLoopMaxMs(service); // resets the service's delay histogram
    const sweepProbe = probeLiveness(service.baseUrl);
    const sweep = await runFullSweep(service.baseUrl, Number(harness.options.timeout) * 1000);
    const waits = await sweepProbe.stop();
    const sweepLoopMax = await eventLoopMaxMs(service);
    const bytes = await bytesUnderPrefix(redis, 'clustering:');
    const info = await redisInfo(redis);
    return {
      items: ids.length,
      clustered: (await clusteredAt(redis, ids)).filter((t) => Number.isFinite(t)).length,
      clusters_before_sweep: clustersBefore,
      clusters_after_sweep: await redis.scard('clusters:all'),
      stream_seconds: streamSeconds,
      sweep_seconds: (sweep.stats.duration_ms ?? sweep.wallMs) / 1000,
      sweep_stats: sweep.stats,
      sweep_status: sweep.status,
      live_max_wait_stream_ms: Math.max(...streamWaits),
      live_max_wait_ms: Math.max(...waits),
      live_p99_wait_ms: percentile(waits, 99),
      sweep_event_loop_max_ms: sweepLoopMax,
      clustering_bytes: bytes,
      clustering_bytes_per_item: bytes / ids.length,
      redis_used_memory_bytes: Number(info.get('used_memory') ?? NaN),
      service_rss_bytes: readProcessMemory(service.child.pid).rss,
      lost_items: await lostItems(redis, ids),
    };
  } finally {
    await close();
    await stop();
    await db.release();
  }
}

function describeSweepRun(label: string, r: SweepRun): string {
  return (
    `  ${label}: ${fmt(r.items)} items streamed and clustered in ${fmt(r.stream_seconds, 1)} s ` +
    `(${fmt(r.clusters_before_sweep)} clusters); full sweep ${r.sweep_status} in ${fmt(r.sweep_seconds, 2)} s ` +
    `(merged ${fmt(r.sweep_stats.merged_clusters ?? 0)}, moved ${fmt(r.sweep_stats.moved_items ?? 0)}; ` +
    `${fmt(r.clusters_after_sweep)} clusters after); /health/live longest wait ${fmt(r.live_max_wait_stream_ms)} ms ` +
    `while streaming, ${fmt(r.live_max_wait_ms)} ms during the sweep (p99 ${fmt(r.live_p99_wait_ms)} ms; ` +
    `event loop delay max ${fmt(r.sweep_event_loop_max_ms)} ms); ${fmt(r.clustering_bytes_per_item)} B per item under clustering: ` +
    `(${mib(r.clustering_bytes)}); redis ${mib(r.redis_used_memory_bytes)}; service RSS ${mib(r.service_rss_bytes)}; ` +
    `lost ${fmt(r.lost_items)}`
  );
}

interface MillionRun {
  items: number;
  clusters: number;
  seed_seconds: number;
  redis_used_memory_bytes: number;
  clustering_bytes: number;
  clustering_bytes_per_item: number;
  service_rss_bytes?: number;
  index_load_seconds: number;
  new_items: number;
  new_items_seconds: number;
  assign_batch_ms: number;
  sweep_seconds: number;
  sweep_status: string;
  sweep_stats: Record<string, number>;
  live_max_wait_ms: number;
}

/**
 * A million clustered items in 50,000 clusters, seeded directly (as persist-batch.lua leaves
 * them: cluster hashes with centroid JSON, member sets, int8 anchors, the change feed, and a
 * feedback hash per item), then the service: index load, 2,000 new items, one full sweep.
 */
async function millionRun(
  harness: Harness,
  items: number,
  clusters: number,
  seed: number,
): Promise<MillionRun> {
  const db = await freshRedis();
  const { redis, close } = connect(db.url);
  let stopService: (() => Promise<void>) | undefined;
  try {
    const random = seededRandom(seed);
    const seedStarted = Date.now();
    const embedder = new LocalEmbedder();
    const seeded = await seedClusters(
      redis,
      clusters,
      embedder.dimensions,
      embedder.model,
      random,
      Math.round(items / clusters),
    );
    const titles = stackOverflowTitles(5000, random);
    const now = new Date().toISOString();
    for (let c = 0; c < seeded.length; c += 500) {
      const pipeline = redis.pipeline();
      for (const cluster of seeded.slice(c, c + 500)) {
        for (const id of cluster.memberIds) {
          pipeline.hset(FeedbackKeys.item(id), {
            id,
            source: 'manual',
            title: titles[Math.floor(random() * titles.length)],
            body: '',
            created_at: now,
            clustered: 'true',
            cluster_id: cluster.id,
            clustered_at: now,
          });
        }
      }
      await pipeline.exec();
    }
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const clusteringBytes = await bytesUnderPrefix(redis, 'clustering:');
    const info = await redisInfo(redis);

    const { service, stop } = await startBenchService(harness, db.url);
    stopService = stop;
    const probe = probeLiveness(service.baseUrl);
    // The first batch loads the index (outside the assignment lock), then assigns.
    const loadStarted = Date.now();
    const first = await new FeedbackWriter(redis, Keyspace.flat()).writeMany([
      { source: 'manual', title: titles[0] },
    ]);
    await waitUntilClustered(redis, service, Number(harness.options.timeout));
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    const fresh = stackOverflowTitles(2000, random).map((title) => ({ source: 'manual', title }));
    const streamStarted = Date.now();
    await new FeedbackWriter(redis, Keyspace.flat()).writeMany(fresh);
    await waitUntilClustered(redis, service, Number(harness.options.timeout));
    const streamSeconds = (Date.now() - streamStarted) / 1000;
    const batches = await scrapeBatchMetrics(service);
    const sweep = await runFullSweep(service.baseUrl, Number(harness.options.timeout) * 1000);
    const waits = await probe.stop();
    return {
      items: items + first.length + fresh.length,
      clusters: await redis.scard('clusters:all'),
      seed_seconds: seedSeconds,
      redis_used_memory_bytes: Number(info.get('used_memory') ?? NaN),
      clustering_bytes: clusteringBytes,
      clustering_bytes_per_item: clusteringBytes / items,
      service_rss_bytes: readProcessMemory(service.child.pid).rss,
      index_load_seconds: loadSeconds,
      new_items: fresh.length,
      new_items_seconds: streamSeconds,
      assign_batch_ms: batches?.mean_batch_ms ?? NaN,
      sweep_seconds: (sweep.stats.duration_ms ?? sweep.wallMs) / 1000,
      sweep_status: sweep.status,
      sweep_stats: sweep.stats,
      live_max_wait_ms: Math.max(...waits),
    };
  } finally {
    await close();
    await stopService?.();
    await db.release();
  }
}

async function main(): Promise<void> {
  const options = new Command()
    .description('Speed instrument of the stream pipeline on the embedded defaults')
    .option('--items <n>', 'items per throughput run', '20000')
    .option('--runs <n>', 'runs per phase (medians reported)', '3')
    .option('--rate <n>', 'arrival rate of the latency phase, items/s', '200')
    .option('--seconds <n>', 'length of each latency run', '20')
    .option('--memory-items <n>', 'items of the peak-memory run', '100000')
    .option('--skip-memory', 'skip the peak-memory run')
    .option('--json <file>', 'also write the figures as JSON')
    .option(
      '--dataset <file>',
      'CSV with a "text" column (short feedback-like texts)',
      '/work/shared/data/banking77/train.csv',
    )
    .option(
      '--service <mode>',
      'build: compile src into .bench/dist; dist: run dist/main.js as it is; ts-node',
      'build',
    )
    .option(
      '--phases <list>',
      'phases to run (also: production, outage, sweep, million)',
      'throughput,latency,scale,memory,sweep,million',
    )
    .option('--summary-latency-ms <ms>', 'model summary latency of the production phase', '800')
    .option('--production-items <n>', 'items of the production phase (at --rate)', '3000')
    .option('--outage-items <n>', 'items arriving during the outage phase', '1000')
    .option('--outage-seconds <s>', 'how long Upstash answers 503 in the outage phase', '20')
    .option('--sweep-items <n>', 'titles streamed before the full sweep (sweep phase)', '20000')
    .option('--million-items <n>', 'items seeded (million phase)', '1000000')
    .option('--million-clusters <n>', 'clusters seeded (million phase)', '50000')
    .option('--queries <n>', 'query vectors of the scale phase', '2000')
    .option(
      '--scale-sizes <list>',
      'cluster counts of the scale phase (first = baseline)',
      '500,50000',
    )
    .option('--cpu-prof <dir>', 'write a V8 CPU profile of the service during each throughput run')
    .option('--seed <n>', 'seed of texts, suffixes and vectors', '42')
    .option('--timeout <seconds>', 'give up waiting for a run after this long', '900')
    .parse()
    .opts<BenchOptions>();
  cleanup.installSignalHandlers();

  const runs = Math.max(1, Number(options.runs));
  const seed = Number(options.seed);
  const phases = new Set(options.phases.split(',').map((p) => p.trim()));
  if (options.skipMemory) phases.delete('memory');
  const texts = loadTexts(options.dataset);

  out('clustering-service bench (embedded defaults: local embedder, embedded HNSW index)');
  out(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${fmt(totalmem() / 2 ** 30, 1)} GiB; ` +
      `node ${process.version}`,
  );
  out(
    `workload: rows of ${options.dataset} (${fmt(texts.length)} texts), shuffled and cycled, ` +
      'each with a random 6-letter suffix word so that they are not exact duplicates; source "manual"',
  );
  out(
    `redis: ${isOnPath('redis-server') ? 'a throwaway redis-server per run (fresh)' : `database ${FALLBACK_DB} of REDIS_URL, flushed per run`}`,
  );

  const harness: Harness = { options };
  const needsService = [
    'throughput',
    'latency',
    'memory',
    'production',
    'outage',
    'sweep',
    'million',
  ].some((p) => phases.has(p));
  if (needsService && options.service === 'build') {
    const started = Date.now();
    const built = buildServiceInto(join(REPO_ROOT, '.bench', 'dist'));
    harness.mainPath = built.mainPath;
    out(
      `service: compiled src into .bench/dist in ${fmt((Date.now() - started) / 1000, 1)} s; node .bench/dist/main.js`,
    );
    if (built.warnings)
      out(`  (tsc reported errors, JavaScript emitted anyway:\n${built.warnings.trim()})`);
  } else if (needsService && options.service === 'dist') {
    harness.mainPath = join(REPO_ROOT, 'dist', 'main.js');
    out('service: node dist/main.js (as built; run `npm run build` first for current sources)');
  } else if (needsService) out('service: ts-node src/main.ts');
  out(`sources: ${sourceState()}`);
  out(`at start: ${loadNote()}`);
  out(
    `service env: ${Object.entries(SERVICE_ENV)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}, the rest defaults`,
  );
  out();

  const figures: Record<string, unknown> = {
    machine: { cores: cpus().length, node: process.version, load_average_at_start: loadavg()[0] },
    sources: sourceState(),
    options,
  };
  const summary: Array<[string, string, string, string]> = [];

  if (phases.has('throughput')) {
    out(
      `throughput: ${fmt(Number(options.items))} items written as fast as possible, ${runs} runs`,
    );
    const results: ThroughputRun[] = [];
    for (let run = 0; run < runs; run++) {
      const nodeArgs = options.cpuProf
        ? [
            '--cpu-prof',
            '--cpu-prof-dir',
            resolve(options.cpuProf),
            '--cpu-prof-name',
            `throughput-${run + 1}.cpuprofile`,
          ]
        : [];
      if (options.cpuProf) mkdirSync(resolve(options.cpuProf), { recursive: true });
      results.push(
        await throughputRun(harness, texts, Number(options.items), seed + run, nodeArgs),
      );
      out(describeThroughputRun(`run ${run + 1}`, results[run]));
    }
    const itemsPerSecond = median(results.map((r) => r.items_per_second));
    out(`  median: ${fmt(itemsPerSecond)} items/s; ${loadNote()}`);
    figures.throughput = { runs: results, median_items_per_second: itemsPerSecond };
    summary.push([
      'throughput (end to end)',
      `${fmt(itemsPerSecond)} items/s`,
      `≥ ${fmt(BARS.throughputItemsPerSecond)} items/s`,
      verdict(itemsPerSecond >= BARS.throughputItemsPerSecond),
    ]);
    out();
  }

  if (phases.has('latency')) {
    out(`latency: ${options.rate} items/s for ${options.seconds} s in 50 ms batches, ${runs} runs`);
    const results: LatencyRun[] = [];
    for (let run = 0; run < runs; run++) {
      const r = await latencyRun(
        harness,
        texts,
        Number(options.rate),
        Number(options.seconds),
        seed + 100 + run,
      );
      results.push(r);
      out(
        `  run ${run + 1}: ${fmt(r.measured)} items at ${fmt(r.arrival_rate, 1)} items/s: ` +
          `p50 ${fmt(r.p50_ms)} ms, p95 ${fmt(r.p95_ms)} ms, p99 ${fmt(r.p99_ms)} ms, max ${fmt(r.max_ms)} ms ` +
          `(${fmt(r.clusters)} clusters)`,
      );
    }
    const m = (key: 'p50_ms' | 'p95_ms' | 'p99_ms' | 'max_ms') =>
      median(results.map((r) => r[key]));
    out(
      `  median: p50 ${fmt(m('p50_ms'))} ms, p95 ${fmt(m('p95_ms'))} ms, p99 ${fmt(m('p99_ms'))} ms, max ${fmt(m('max_ms'))} ms; ${loadNote()}`,
    );
    figures.latency = {
      runs: results,
      median_p50_ms: m('p50_ms'),
      median_p95_ms: m('p95_ms'),
      median_p99_ms: m('p99_ms'),
      median_max_ms: m('max_ms'),
    };
    summary.push([
      `latency p99 at ${options.rate}/s`,
      `${fmt(m('p99_ms'))} ms`,
      `≤ ${fmt(BARS.latencyP99Ms)} ms`,
      verdict(m('p99_ms') <= BARS.latencyP99Ms),
    ]);
    out();
  }

  if (phases.has('scale')) {
    const sizes = options.scaleSizes.split(',').map(Number);
    out(
      `scale (in process): candidates() + assignBatch() for ${options.queries} query vectors in ` +
        `batches of 256, median of ${runs} timed passes after one warm-up`,
    );
    out(
      '  clusters: random unit anchors, centroid = anchor blended with noise (cos ≈ 0.95), written as persist-batch.lua does',
    );
    const results = await scalePhase(texts, sizes, Number(options.queries), runs, seed);
    const base = results[0];
    const top = results[results.length - 1];
    const ratio = top.near.per_item_us / base.near.per_item_us;
    const textRatio = top.texts.per_item_us / base.texts.per_item_us;
    out(
      `  ratio ${fmt(top.clusters)}/${fmt(base.clusters)}: near-cluster queries ${fmt(ratio, 2)}×, ` +
        `banking77 queries ${fmt(textRatio, 2)}×`,
    );
    out(`  ${loadNote()}`);
    figures.scale = { sizes: results, ratio_near: ratio, ratio_texts: textRatio };
    summary.push([
      `assign cost ${fmt(top.clusters)} vs ${fmt(base.clusters)}`,
      `${fmt(ratio, 2)}× (${fmt(textRatio, 2)}× texts)`,
      `≤ ${BARS.scaleRatio}×`,
      verdict(Math.max(ratio, textRatio) <= BARS.scaleRatio),
    ]);
    out();
  }

  if (phases.has('memory')) {
    const count = Number(options.memoryItems);
    out(`memory: the throughput flow once with ${fmt(count)} items`);
    const r = await throughputRun(harness, texts, count, seed + 1000);
    out(describeThroughputRun('run', r));
    out(
      `  service peak RSS (VmHWM) ${mib(r.service_peak_rss_bytes)}, sampled max RSS ` +
        `${mib(r.service_sampled_max_rss_bytes)}; redis used_memory ${r.redis_used_memory_human}`,
    );
    out(`  ${loadNote()}`);
    figures.memory = r;
    const peak = r.service_peak_rss_bytes ?? r.service_sampled_max_rss_bytes;
    summary.push([
      `peak RSS, ${fmt(count)} items`,
      `${mib(peak)} (${fmt(r.clusters)} clusters; redis ${r.redis_used_memory_human})`,
      '< 1 GB (10^9 B)',
      verdict(peak < BARS.peakRssBytes),
    ]);
    out();
  }

  const hooks: BenchHooks = {
    freshRedis,
    connect,
    startService: (url, env) => startBenchService(harness, url, [], env),
    waitUntilClustered,
  };
  if (phases.has('production')) {
    const count = Number(options.productionItems);
    out(
      `production: ${fmt(count)} items at ${options.rate}/s through the Gemini and Upstash adapters ` +
        `(stand-ins), model summaries taking ${options.summaryLatencyMs} ms, default quota ` +
        `(GEMINI_SUMMARIES_PER_MINUTE=60), ${runs} runs`,
    );
    const results: ProductionRun[] = [];
    for (let run = 0; run < runs; run++) {
      const r = await productionRun(
        hooks,
        makeItems(texts, count, seededRandom(seed + 200 + run)),
        Number(options.rate),
        Number(options.summaryLatencyMs),
        Number(options.timeout),
      );
      results.push(r);
      out(
        `  run ${run + 1}: ${fmt(r.produced)} items at ${fmt(r.arrival_rate, 1)}/s: p50 ${fmt(r.p50_ms)} ms, ` +
          `p99 ${fmt(r.p99_ms)} ms; ${fmt(r.clusters)} clusters, the ${20} largest with model summaries ` +
          `after ${fmt(r.top_model_summaries_s, 1)} s (${fmt(r.model_summaries)} model summaries); ` +
          `injected fields ${r.injected_fields}; SIGTERM with ${fmt(r.owed_at_sigterm)} owed: exit in ` +
          `${fmt(r.sigterm_exit_s, 1)} s, ${r.claims_left} claims left`,
      );
    }
    const m = (key: keyof ProductionRun) => median(results.map((r) => r[key]));
    out(
      `  median: p99 ${fmt(m('p99_ms'))} ms, top 20 summarised after ${fmt(m('top_model_summaries_s'), 1)} s, exit ${fmt(m('sigterm_exit_s'), 1)} s; ${loadNote()}`,
    );
    figures.production = { runs: results };
    summary.push(
      ['production p99', `${fmt(m('p99_ms'))} ms`, '≤ 1,000 ms', verdict(m('p99_ms') <= 1000)],
      [
        'top 20 model summaries',
        `${fmt(m('top_model_summaries_s'), 1)} s`,
        '≤ 120 s',
        verdict(m('top_model_summaries_s') <= 120),
      ],
      [
        'SIGTERM exit',
        `${fmt(m('sigterm_exit_s'), 1)} s`,
        '< 30 s',
        verdict(m('sigterm_exit_s') < 30),
      ],
      [
        'injected stored fields',
        `${Math.max(...results.map((r) => r.injected_fields))}`,
        '0',
        verdict(results.every((r) => r.injected_fields === 0)),
      ],
    );
    out();
  }
  if (phases.has('outage')) {
    out(
      `outage: ${options.outageItems} items over ${options.outageSeconds} s while Upstash answers 503, ${runs} runs`,
    );
    const results: OutageRun[] = [];
    for (let run = 0; run < runs; run++) {
      const r = await outageRun(
        hooks,
        makeItems(texts, 200 + Number(options.outageItems), seededRandom(seed + 300 + run)),
        Number(options.outageSeconds),
        Number(options.timeout),
      );
      results.push(r);
      out(
        `  run ${run + 1}: ${fmt(r.produced)} items, ${fmt(r.upstash_503s)} Upstash calls answered 503: ` +
          `${r.dead_letters} dead letters, all clustered ${fmt(r.clustered_after_recovery_s, 1)} s after recovery`,
      );
    }
    const after = median(results.map((r) => r.clustered_after_recovery_s));
    const deadLetters = Math.max(...results.map((r) => r.dead_letters));
    figures.outage = { runs: results };
    summary.push(
      ['outage dead letters', `${deadLetters}`, '0', verdict(deadLetters === 0)],
      ['clustered after recovery', `${fmt(after, 1)} s`, '≤ 30 s', verdict(after <= 30)],
    );
    out();
  }

  if (phases.has('sweep')) {
    const count = Number(options.sweepItems);
    out(
      `sweep: ${fmt(count)} StackOverflow-like titles (generated: technology × action × object × ` +
        `symptom × phrasing, with versions and error codes) streamed in, then one full sweep (POST /cluster-jobs), ` +
        `/health/live polled throughout, ${runs} runs`,
    );
    const results: SweepRun[] = [];
    for (let run = 0; run < runs; run++) {
      results.push(await sweepRun(harness, count, seed + 200 + run));
      out(describeSweepRun(`run ${run + 1}`, results[run]));
    }
    const m = (
      key:
        | 'sweep_seconds'
        | 'live_max_wait_ms'
        | 'sweep_event_loop_max_ms'
        | 'clustering_bytes_per_item',
    ) => median(results.map((r) => r[key]));
    const lost = Math.max(...results.map((r) => r.lost_items));
    out(`  ${loadNote()}`);
    figures.sweep = { runs: results };
    summary.push(
      [
        'full sweep after the stream',
        `${fmt(m('sweep_seconds'), 2)} s`,
        '≤ 10 s',
        verdict(m('sweep_seconds') <= 10),
      ],
      [
        '/health/live longest wait (sweep)',
        `${fmt(m('live_max_wait_ms'))} ms`,
        '≤ 500 ms',
        verdict(m('live_max_wait_ms') <= 500),
      ],
      [
        'event loop delay max (sweep)',
        `${fmt(m('sweep_event_loop_max_ms'))} ms`,
        '≤ 100 ms',
        verdict(m('sweep_event_loop_max_ms') <= 100),
      ],
      [
        'bytes per item under clustering:',
        fmt(m('clustering_bytes_per_item')),
        '≤ 1,024',
        verdict(m('clustering_bytes_per_item') <= 1024),
      ],
      ['items lost', fmt(lost), '0', verdict(lost === 0)],
    );
    out();
  }

  if (phases.has('million')) {
    const items = Number(options.millionItems);
    const clusters = Number(options.millionClusters);
    out(
      `million: ${fmt(items)} clustered items in ${fmt(clusters)} clusters seeded directly ` +
        '(random unit anchors, centroid = anchor blended with noise; a feedback hash per item), ' +
        'then the service: index load, 2,000 new items, one full sweep (one run)',
    );
    const r = await millionRun(harness, items, clusters, seed + 300);
    out(
      `  seeded in ${fmt(r.seed_seconds, 1)} s: redis ${mib(r.redis_used_memory_bytes)} in all, ` +
        `${mib(r.clustering_bytes)} under clustering: (${fmt(r.clustering_bytes_per_item)} B per item)`,
    );
    out(
      `  service: index loaded and first item assigned in ${fmt(r.index_load_seconds, 1)} s; ` +
        `RSS ${mib(r.service_rss_bytes)}; 2,000 new items in ${fmt(r.new_items_seconds, 1)} s ` +
        `(mean batch ${fmt(r.assign_batch_ms, 1)} ms); full sweep ${r.sweep_status} in ` +
        `${fmt(r.sweep_seconds, 1)} s (merged ${fmt(r.sweep_stats.merged_clusters ?? 0)}, ` +
        `moved ${fmt(r.sweep_stats.moved_items ?? 0)}); /health/live max ${fmt(r.live_max_wait_ms)} ms`,
    );
    out(`  ${loadNote()}`);
    figures.million = r;
    summary.push([
      `${fmt(items)} items, ${fmt(clusters)} clusters`,
      `redis ${mib(r.redis_used_memory_bytes)}, RSS ${mib(r.service_rss_bytes)}, sweep ${fmt(r.sweep_seconds, 1)} s`,
      'reported',
      r.sweep_status === 'succeeded' ? 'PASS' : 'FAIL',
    ]);
    out();
  }

  out('summary (medians)');
  const widths = [0, 1, 2, 3].map((c) =>
    Math.max(...[['bar', 'measured', 'target', ''], ...summary].map((row) => row[c].length)),
  );
  for (const row of [['bar', 'measured', 'target', 'result'] as const, ...summary]) {
    out(`  ${row.map((cell, c) => cell.padEnd(widths[c])).join('  ')}`);
  }
  figures.summary = summary.map(([bar, measured, target, result]) => ({
    bar,
    measured,
    target,
    result,
  }));
  if (options.json) writeFileSync(options.json, JSON.stringify(figures, null, 2));
}

main()
  .catch((error: unknown) => {
    if (cleanup.interrupted) return; // the signal handler reports and exits
    process.stderr.write(
      `bench failed: ${error instanceof Error ? error.message : String(error)}\n` +
        (error instanceof ServiceStartError ? `${error.output}\n` : ''),
    );
    process.exitCode = 1;
  })
  .finally(() => cleanup.runAll());
