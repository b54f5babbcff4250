import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { encodeInt8Record } from '../../src/item-vectors/vector-record';
import { normalize } from '../../src/math/vector-math';
import { ClusterKeys, ServiceKeys } from '../../src/redis/keys';

/** Median of the numbers (mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (`p` in 0..100) of the numbers; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * Clean-up steps run in reverse order of registration, once, whether the script ends
 * normally, throws, or is interrupted (SIGINT, SIGTERM).
 */
export class CleanupStack {
  private readonly tasks = new Map<number, () => Promise<unknown>>();
  private next = 0;

  /** Registers a step; the returned function runs it now (and only once). */
  add(task: () => Promise<unknown>): () => Promise<void> {
    const key = this.next++;
    this.tasks.set(key, task);
    return async () => {
      const registered = this.tasks.get(key);
      if (!registered) return;
      this.tasks.delete(key);
      await registered();
    };
  }

  private running?: Promise<void>;
  /** True once SIGINT or SIGTERM arrived: steps may then cut their grace periods short. */
  interrupted = false;

  /** Runs every registered step; a second call while running waits for the same run. */
  runAll(): Promise<void> {
    this.running ??= this.runSteps().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runSteps(): Promise<void> {
    const keys = [...this.tasks.keys()].sort((a, b) => b - a);
    for (const key of keys) {
      const task = this.tasks.get(key);
      this.tasks.delete(key);
      await task?.().catch((error: unknown) => {
        process.stderr.write(`clean-up step failed: ${String(error)}\n`);
      });
    }
  }

  /** On SIGINT/SIGTERM: run every step, then exit with 130/143. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.interrupted) return;
      this.interrupted = true;
      process.stderr.write(`\n${signal}: stopping the service and redis-server...\n`);
      void this.runAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}

/** The first `n` rows of each label, in the rows' order (a labelled subsample for eval and tuning). */
export function atMostPerLabel<T>(rows: readonly T[], labelOf: (row: T) => string, n: number): T[] {
  const taken = new Map<string, number>();
  return rows.filter((row) => {
    const count = taken.get(labelOf(row)) ?? 0;
    taken.set(labelOf(row), count + 1);
    return count < n;
  });
}

/** A seeded pseudo-random generator (mulberry32), uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random unit vector (isotropic: normalised Gaussian components). */
export function randomUnitVector(dimensions: number, random: () => number): Float32Array {
  const v = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) {
    // Box-Muller
    const u = 1 - random();
    v[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return normalize(v);
}

/** `weight` · a + sqrt(1 − weight²) · b, for unit a and b (nearly) orthogonal: cosine ≈ weight to a. */
export function blend(a: Float32Array, b: Float32Array, weight: number): Float32Array {
  const other = Math.sqrt(Math.max(0, 1 - weight * weight));
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = weight * a[i] + other * b[i];
  return out;
}

export interface SeededCluster {
  id: string;
  /** The cluster's centroid (not normalised, as stored). */
  centroid: Float32Array;
  /** The ids in its member set (no feedback hashes are written for them). */
  memberIds: string[];
}

/**
 * Writes `count` live clusters into `redis` exactly as `persist-batch.lua` leaves them
 * after creating each in its own batch: the `cluster:{id}` hash (status `new`, size,
 * embedding_model, sources, centroid JSON, titles, timestamps), `cluster:items:{id}`,
 * `clusters:all`, the anchor's int8 record, and one change-feed entry per
 * cluster (`clustering:index:seq` / `clustering:index:changes`). Member items themselves
 * (`feedback:*`) are not written: nothing on the assignment path reads them.
 * Anchors are random unit vectors; each centroid is its anchor blended with noise (cosine
 * ≈ 0.95 to the anchor), like a cluster that drifted a little from its founding item.
 */
export async function seedClusters(
  redis: Redis,
  count: number,
  dimensions: number,
  model: string,
  random: () => number,
  /** Members per cluster; 1-20 at random when absent. */
  membersPerCluster?: number,
): Promise<SeededCluster[]> {
  const seeded: SeededCluster[] = [];
  const now = new Date().toISOString();
  const CHUNK = 250;
  let seq = Number((await redis.get(ServiceKeys.indexSeq)) ?? 0);
  for (let start = 0; start < count; start += CHUNK) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(count, start + CHUNK); i++) {
      const id = randomUUID();
      const anchor = randomUnitVector(dimensions, random);
      const centroid = blend(anchor, randomUnitVector(dimensions, random), 0.95);
      const size = membersPerCluster ?? 1 + Math.floor(random() * 20);
      const key = ClusterKeys.cluster(id);
      const title = `Seeded cluster ${i}`;
      pipeline.hset(key, {
        id,
        status: 'new',
        created_at: now,
        title,
        summary: '',
        issue_title: title,
        issue_description: '',
        centroid: JSON.stringify(Array.from(centroid, (x) => Math.round(x * 1e6) / 1e6)),
        embedding_model: model,
        sources: JSON.stringify(['manual']),
        updated_at: now,
        size: String(size),
      });
      const memberIds = Array.from({ length: size }, (_, m) => `seeded-${i}-${m}`);
      pipeline.sadd(ClusterKeys.items(id), ...memberIds);
      pipeline.hset(ServiceKeys.anchors, id, encodeInt8Record(anchor, model));
      pipeline.sadd(ClusterKeys.all, id);
      pipeline.zadd(ServiceKeys.indexChanges, ++seq, id);
      seeded.push({ id, centroid, memberIds });
    }
    pipeline.set(ServiceKeys.indexSeq, seq);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }
  return seeded;
}

/** Sum and count of each Prometheus histogram in `text`, by metric name and label set. */
export function histogramTotals(
  text: string,
  metric: string,
): Array<{ labels: string; sum: number; count: number }> {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  const pattern = new RegExp(`^${metric}_(sum|count)(\\{[^}]*\\})? (\\S+)$`, 'gm');
  for (const match of text.matchAll(pattern)) {
    const labels = match[2] ?? '';
    (match[1] === 'sum' ? sums : counts).set(labels, Number(match[3]));
  }
  return [...sums.keys()].map((labels) => ({
    labels,
    sum: sums.get(labels) ?? 0,
    count: counts.get(labels) ?? 0,
  }));
}
