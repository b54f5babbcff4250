/**
 * Offline tuning harness: embeds a labelled CSV (`text,category`) with the local embedder,
 * replays it through assignBatch in shuffled micro-batches exactly as the service would
 * (clusters of earlier batches become the next batches' candidates), and prints external
 * metrics for every combination of the thresholds given. Labels are used only to measure.
 *
 *   npx ts-node --transpile-only scripts/tune-offline.ts --csv data.csv --join 0.5,0.55
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { Calibration } from '../src/calibration/calibration';
import { clusteringParams } from '../src/config/clustering-params';
import { Environment } from '../src/config/environment';
import { ClusterState } from '../src/ports/cluster-state';
import { kMeans } from '../src/eval/kmeans';
import { ari, bcubed, nmi } from '../src/eval/metrics';
import { AssignParams, assignBatch } from '../src/pipeline/assign/assign-batch';
import { dot, norm, normalize } from '../src/math/vector-math';
import { DEFAULT_RECIPE, LocalEmbedder } from '../src/providers/local/local-embedder';
import { SentenceRecipe } from '../src/providers/local/embedding/sentence-encoder';
import { ShiftedSemanticEmbeddings } from '../test/stand-ins/shifted-embeddings';
import { atMostPerLabel, seededRandom } from './lib/bench-support';

interface Row {
  text: string;
  category: string;
}

const numbers = (value: string): number[] => value.split(',').map(Number);
/** The service's defaults, so a run without options replays what the service would decide. */
const defaults = clusteringParams(new Environment()).assign;

const program = new Command()
  .requiredOption('--csv <path>', 'labelled CSV with columns text,category')
  .option('--seed <n>', 'shuffle seed', '42')
  .option('--batch <n>', 'micro-batch size', '200')
  .option(
    '--candidates <n>',
    'nearest clusters offered per item (the ANN k)',
    String(defaults.candidatesK),
  )
  .option('--join <list>', 'joinThreshold values', String(defaults.joinThreshold))
  .option('--anchor <list>', 'anchorThreshold values', String(defaults.anchorThreshold))
  .option(
    '--join-on <rule>',
    'what joinThreshold is compared with: centroid | members',
    defaults.joinOn,
  )
  .option(
    '--growth-penalty <n>',
    'how much the bar to join rises with cluster size',
    String(defaults.growthPenalty),
  )
  .option(
    '--background <b>',
    'replay shifted semantic vectors (768-d) whose unrelated pairs meet at this cosine',
  )
  .option('--per-label <n>', 'use at most n rows of each label')
  .option('--kmeans', 'also report k-means told the number of labels, on the same vectors')
  .option('--recipe <json>', 'overrides of the embedding recipe, as JSON', '{}')
  .option('--max-clusters <n>', 'abandon a run once it has this many clusters', '3000')
  .option(
    '--neighbours <n>',
    "also report the label purity of n sampled items' 10 nearest neighbours",
    '0',
  )
  .parse();
const options = program.opts<{
  csv: string;
  seed: string;
  batch: string;
  candidates: string;
  join: string;
  anchor: string;
  joinOn: AssignParams['joinOn'];
  growthPenalty: string;
  recipe: string;
  background?: string;
  kmeans?: boolean;
  perLabel?: string;
  maxClusters: string;
  neighbours: string;
}>();

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The `k` clusters whose centroids are most cosine-similar to `vector` (exact, brute force). */
function nearestClusters(
  vector: Float32Array,
  clusters: ClusterState[],
  k: number,
): ClusterState[] {
  const scored = clusters.map((c) => ({ c, score: dot(vector, c.centroid) / norm(c.centroid) }));
  scored.sort((a, b) => b.score - a.score);
  return scored.slice(0, k).map((s) => s.c);
}

/**
 * Mean share of an item's 10 nearest neighbours (by cosine) that share its label, over the
 * first `samples` items: a clusterer-independent measure of the embedding.
 */
function neighbourPurity(vectors: Float32Array[], gold: string[], samples: number): number {
  let total = 0;
  const count = Math.min(samples, vectors.length);
  for (let q = 0; q < count; q++) {
    const scored: Array<{ i: number; score: number }> = [];
    vectors.forEach((v, i) => {
      if (i !== q) scored.push({ i, score: dot(vectors[q], v) });
    });
    scored.sort((a, b) => b.score - a.score);
    total += scored.slice(0, 10).filter((s) => gold[s.i] === gold[q]).length / 10;
  }
  return total / count;
}

interface RunResult {
  predicted: string[];
  clusters: number;
}

function replay(
  vectors: Float32Array[],
  params: AssignParams,
  batchSize: number,
  k: number,
  maxClusters: number,
): RunResult | undefined {
  const clusters = new Map<string, ClusterState>();
  const predicted: string[] = new Array<string>(vectors.length);
  let nextId = 0;
  let calibration = Calibration.none;
  for (let start = 0; start < vectors.length; start += batchSize) {
    const batch = vectors.slice(start, start + batchSize);
    const existing = [...clusters.values()];
    const candidates = batch.map((v) => nearestClusters(v, existing, k));
    const items = batch.map((vector, i) => ({ id: String(start + i), vector }));
    calibration = calibration.withItems(batch);
    const plan = assignBatch(items, candidates, params, calibration, () => `c${nextId++}`);
    for (const change of plan.changes) clusters.set(change.state.id, change.state);
    for (const a of plan.assignments) predicted[Number(a.itemId)] = a.clusterId;
    if (clusters.size > maxClusters) return undefined;
  }
  return { predicted, clusters: clusters.size };
}

async function main(): Promise<void> {
  const rows = parse<Row>(readFileSync(options.csv), { columns: true, skip_empty_lines: true });
  const recipe: SentenceRecipe = {
    ...DEFAULT_RECIPE,
    ...(JSON.parse(options.recipe) as Partial<SentenceRecipe>),
  };
  // Without overrides, the embedder as the service builds it (and named as such).
  const embedder = new LocalEmbedder(options.recipe === '{}' ? {} : { recipe });

  const loadStart = process.hrtime.bigint();
  await embedder.embed(['warm up']);
  const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;

  const shuffledRows = shuffled(rows, Number(options.seed));
  const order = options.perLabel
    ? atMostPerLabel(shuffledRows, (row) => row.category, Number(options.perLabel))
    : shuffledRows;
  const embedStart = process.hrtime.bigint();
  const outcomes = await embedder.embed(order.map((r) => r.text));
  const embedMs = Number(process.hrtime.bigint() - embedStart) / 1e6;

  const kept = order.flatMap((row, i) => {
    const outcome = outcomes[i];
    return outcome.ok ? [{ row, vector: outcome.vector }] : [];
  });
  const gold = kept.map((k) => k.row.category);
  const vectors = options.background
    ? (
        await new ShiftedSemanticEmbeddings(Number(options.background)).embed(
          kept.map((k) => k.row.text),
          768,
        )
      ).map(normalize)
    : kept.map((k) => k.vector);
  const background = Calibration.none.withItems(vectors).background;
  console.log(`background (mean cosine of two items): ${background.toFixed(3)}`);
  if (options.kmeans) {
    const k = new Set(gold).size;
    const { labels } = kMeans(vectors, k, seededRandom(Number(options.seed)));
    console.log(
      `k-means told k=${k}: NMI ${nmi(gold, labels).toFixed(4)} ARI ${ari(gold, labels).toFixed(4)}`,
    );
  }
  console.log(
    `${options.csv}: ${rows.length} rows, ${rows.length - kept.length} unembeddable; model ${embedder.model} ` +
      `(${embedder.dimensions}d), table load ${loadMs.toFixed(0)} ms, embed ${(embedMs / rows.length).toFixed(4)} ms/item`,
  );
  console.log(`recipe ${JSON.stringify(recipe)}`);
  const samples = Number(options.neighbours);
  if (samples > 0) {
    console.log(`10-NN label purity: ${neighbourPurity(vectors, gold, samples).toFixed(4)}`);
  }
  console.log('join\tanchor\tNMI\tARI\tB3-P\tB3-R\tB3-F1\tclusters\tlargest\tsingletons');

  for (const joinThreshold of numbers(options.join)) {
    for (const anchorThreshold of numbers(options.anchor)) {
      const result = replay(
        vectors,
        {
          joinThreshold,
          anchorThreshold,
          joinOn: options.joinOn,
          growthPenalty: Number(options.growthPenalty),
        },
        Number(options.batch),
        Number(options.candidates),
        Number(options.maxClusters),
      );
      if (!result) {
        console.log(`${joinThreshold}\t${anchorThreshold}\tover ${options.maxClusters} clusters`);
        continue;
      }
      const sizes = new Map<string, number>();
      for (const id of result.predicted) sizes.set(id, (sizes.get(id) ?? 0) + 1);
      const largest = Math.max(...sizes.values()) / result.predicted.length;
      const singletons = [...sizes.values()].filter((s) => s === 1).length;
      const b3 = bcubed(gold, result.predicted);
      const cells = [
        nmi(gold, result.predicted),
        ari(gold, result.predicted),
        b3.precision,
        b3.recall,
        b3.f1,
      ].map((x) => x.toFixed(4));
      console.log(
        [
          joinThreshold,
          anchorThreshold,
          ...cells,
          result.clusters,
          (largest * 100).toFixed(2) + '%',
          singletons,
        ].join('\t'),
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
