/**
 * Chooses the in-process vector-index library by measurement (`npx ts-node --transpile-only
 * scripts/compare-vector-indexes.ts [--clusters 50000] [--queries 1000] [--dataset CSV]`).
 *
 * Centroids: local-embedder vectors of BANKING77 texts, each cluster the mean of 1-3 texts with
 * a random extra word (so 50,000 distinct, realistically spread points). Queries: other texts.
 * Every candidate configuration runs in its own child process (so its memory is its own) and
 * reports build time, index memory (RSS growth while building), search time per query, and
 * recall: the share of the exact top 10 (full vectors, cosine) found among the candidates the
 * service would re-rank (3 × 10, as `EmbeddedVectorIndex` asks), and how often the exact nearest
 * is among them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { dot, normalize } from '../src/math/vector-math';
import { SketchProjection } from '../src/providers/embedded/sketch-projection';
import { LocalEmbedder } from '../src/providers/local/local-embedder';
import { seededRandom } from './lib/bench-support';

const K = 10;
const WANTED = 3 * K;

interface Candidate {
  name: string;
  build(vectors: readonly Float32Array[]): Promise<(query: Float32Array) => number[]>;
}

/** The part of hnswlib-node's API measured here. */
interface Hnswlib {
  HierarchicalNSW: new (
    space: 'cosine',
    dimensions: number,
  ) => {
    initIndex(capacity: number, m: number, efConstruction: number, seed: number): void;
    addPoint(vector: number[], label: number): void;
    setEf(ef: number): void;
    searchKnn(vector: number[], k: number): { neighbors: number[] };
  };
}

/**
 * hnswlib-node, the library the service used before, is no longer a dependency (it compiles
 * from source); it is measured when installed (`npm install --no-save hnswlib-node` with its
 * install script allowed). A variable module name keeps the type checker from requiring it.
 */
const HNSWLIB = 'hnswlib-node';

const sketch = new SketchProjection(1324, 64);
const CONFIGS: Record<string, Candidate> = {
  'hnswlib-node sketch64 f32': {
    name: 'hnswlib-node 3.0, 64-d sketch, f32, M 16, efC 64, ef 64',
    async build(vectors) {
      const { HierarchicalNSW } = (await import(HNSWLIB)) as Hnswlib;
      const graph = new HierarchicalNSW('cosine', 64);
      graph.initIndex(vectors.length, 16, 64, 100);
      vectors.forEach((v, i) => graph.addPoint(Array.from(sketch.project(v)), i));
      graph.setEf(64);
      return (q) => graph.searchKnn(Array.from(sketch.project(q)), WANTED).neighbors;
    },
  },
  ...Object.fromEntries(
    (
      [
        ['usearch sketch64 f32', 64, ScalarKind.F32],
        ['usearch sketch64 i8', 64, ScalarKind.I8],
        ['usearch full f16', 1324, ScalarKind.F16],
        ['usearch full i8', 1324, ScalarKind.I8],
      ] as const
    ).map(([key, dimensions, quantization]) => [
      key,
      {
        name: `usearch 2.26, ${dimensions === 64 ? '64-d sketch' : 'full 1324-d'}, ${quantization}, M 16, efC 64, ef 64`,
        async build(vectors: readonly Float32Array[]) {
          const index = new Index({
            dimensions,
            metric: MetricKind.Cos,
            quantization,
            connectivity: 16,
            expansion_add: 64,
            expansion_search: 64,
            multi: false,
          });
          const project = (v: Float32Array) => (dimensions === 64 ? sketch.project(v) : v);
          vectors.forEach((v, i) => index.add(BigInt(i), project(v)));
          return (q: Float32Array) =>
            Array.from(index.search(project(q), WANTED, 1).keys, (key) => Number(key));
        },
      } satisfies Candidate,
    ]),
  ),
};

async function workload(dataset: string, clusters: number, queries: number) {
  const rows = parse<Record<string, string>>(readFileSync(dataset), { columns: true });
  const texts = rows.map((r) => r.text);
  const random = seededRandom(11);
  const pick = () => texts[Math.floor(random() * texts.length)];
  const words = texts.join(' ').split(/\s+/);
  const embedder = new LocalEmbedder();
  const embed = async (list: string[]) =>
    (await embedder.embed(list)).map((o) => (o.ok ? o.vector : new Float32Array(1324)));
  const centroids: Float32Array[] = [];
  for (let i = 0; i < clusters; i++) {
    const members = await embed(
      Array.from(
        { length: 1 + Math.floor(random() * 3) },
        () => `${pick()} ${words[Math.floor(random() * words.length)]}`,
      ),
    );
    const mean = new Float32Array(1324);
    for (const m of members) for (let d = 0; d < mean.length; d++) mean[d] += m[d];
    centroids.push(normalize(mean));
  }
  const queryVectors = await embed(Array.from({ length: queries }, pick));
  return { centroids, queryVectors };
}

/** The exact 10 nearest, nearest first. */
function exactTop(centroids: readonly Float32Array[], q: Float32Array): number[] {
  const scored = centroids.map((c, i) => ({ i, s: dot(c, q) }));
  scored.sort((a, b) => b.s - a.s);
  return scored.slice(0, K).map((x) => x.i);
}

async function runOne(key: string, dataset: string, clusters: number, queries: number) {
  const { centroids, queryVectors } = await workload(dataset, clusters, queries);
  const settle = async () => {
    for (let i = 0; i < 3; i++) global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
    return process.memoryUsage().rss;
  };
  const rssBefore = await settle();
  const started = performance.now();
  const search = await CONFIGS[key].build(centroids);
  const buildSeconds = (performance.now() - started) / 1000;
  const indexMb = ((await settle()) - rssBefore) / 2 ** 20;
  let found = 0;
  let foundNearest = 0;
  let searchMs = 0;
  for (const q of queryVectors) {
    const t0 = performance.now();
    const got = search(q);
    searchMs += performance.now() - t0;
    const truth = exactTop(centroids, q);
    found += got.filter((i) => truth.includes(i)).length;
    if (got.includes(truth[0])) foundNearest++;
  }
  process.stdout.write(
    JSON.stringify({
      config: CONFIGS[key].name,
      build_s: Number(buildSeconds.toFixed(2)),
      index_mb: Number(indexMb.toFixed(1)),
      bytes_per_cluster: Math.round((indexMb * 2 ** 20) / clusters),
      search_us: Number(((1000 * searchMs) / queryVectors.length).toFixed(1)),
      recall_at_10: Number((found / (K * queryVectors.length)).toFixed(4)),
      nearest_found: Number((foundNearest / queryVectors.length).toFixed(4)),
    }) + '\n',
  );
}

async function main(): Promise<void> {
  const options = new Command()
    .option('--clusters <n>', 'centroids indexed', '50000')
    .option('--queries <n>', 'queries (exact top 10 computed for each)', '1000')
    .option('--dataset <csv>', 'texts (a "text" column)', '../shared/data/banking77/train.csv')
    .option('--configs <list>', 'comma-separated configuration keys (default: all)')
    .option('--one <config>', 'run one configuration (internal)')
    .parse()
    .opts<{ clusters: string; queries: string; dataset: string; configs?: string; one?: string }>();
  if (options.one) {
    return runOne(options.one, options.dataset, Number(options.clusters), Number(options.queries));
  }
  for (const key of options.configs?.split(',') ?? Object.keys(CONFIGS)) {
    const child = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '-r',
        'ts-node/register/transpile-only',
        __filename,
        '--one',
        key,
        '--clusters',
        options.clusters,
        '--queries',
        options.queries,
        '--dataset',
        options.dataset,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    process.stdout.write(child.stdout);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
