import Redis from 'ioredis';
import { LiveClusters } from '../../clusters/live-clusters';
import { runScript } from '../../redis/lua-scripts';
import { Calibration } from '../../calibration/calibration';
import { CalibrationStore } from '../../calibration/calibration.store';
import { ClusterStateStore } from '../../clusters/cluster-state.store';
import { parseFeedbackHash } from '../../feedback/feedback-item';
import { encodeInt8Record } from '../../item-vectors/vector-record';
import { ItemVectors, ItemVectorStorage } from '../../item-vectors/item-vectors';
import { cosine } from '../../math/vector-math';
import { Embedder } from '../../ports/embedder.port';
import { prepareText } from '../../text/prepare-text';
import { Keyspace } from '../../redis/keyspace';

export interface ReEmbedOptions {
  redis: Redis;
  /** The keys of the project to re-embed; the flat layout's by default. */
  keys?: Keyspace;
  /** The embedder the service is about to use: its `model` becomes every cluster's model. */
  embedder: Embedder;
  /** Items gathered (across clusters) per `embed` call; default 500. */
  itemsPerCall?: number;
  /** As the pipeline's `MAX_TEXT_CHARS`, so texts are prepared exactly as for clustering; default 4000. */
  maxTextChars?: number;
  /** As the service's `ITEM_VECTORS`; default `auto`. */
  itemVectorStorage?: ItemVectorStorage;
  onProgress?: (progress: ReEmbedProgress) => void;
}

export interface ReEmbedProgress {
  /** Clusters finished (converted, already done, gone or failed). */
  processed: number;
  total: number;
}

export interface ReEmbedReport {
  model: string;
  /** Live clusters found. */
  clusters: number;
  converted: number;
  /** Already converted by an earlier (interrupted) run. */
  alreadyDone: number;
  /** Clusters left on their old vectors, with why; a rerun tries them again. */
  failed: Array<{ clusterId: string; reason: string }>;
  itemsEmbedded: number;
  /** Items that already had a vector of the target model. */
  itemsReused: number;
  /** Members whose feedback is gone or has no text; left out of the centroid. */
  itemsWithoutText: number;
}

interface ClusterWork {
  id: string;
  vectors: Map<string, Float32Array>;
  /** Members to embed, with their prepared text. */
  pending: Array<{ id: string; text: string }>;
  failure?: string;
}

/**
 * Rebuilds every live cluster for a new embedder, so that vectors of two models never mix:
 * re-embeds the members (reusing vectors already of the target model), then writes the item
 * vectors, the centroid (mean), the anchor (the member nearest the centroid), the cluster's
 * `embedding_model`, and a change-feed entry so every replica reloads the cluster.
 *
 * Resumable: each finished cluster is recorded under `clustering:reembed:done:{model}` and
 * skipped by a rerun. Run it while no worker with the old embedder is clustering: those
 * would add old-model vectors to converted clusters.
 */
export async function reEmbed(options: ReEmbedOptions): Promise<ReEmbedReport> {
  const { redis, embedder } = options;
  const keys = options.keys ?? Keyspace.flat();
  const model = embedder.model;
  const maxTextChars = options.maxTextChars ?? 4000;
  const itemVectors = new ItemVectors(
    redis,
    keys,
    embedder,
    options.itemVectorStorage ?? 'auto',
    maxTextChars,
  );
  const ids = (await new LiveClusters(redis, keys).ids()).sort();
  const report: ReEmbedReport = {
    model,
    clusters: ids.length,
    converted: 0,
    alreadyDone: 0,
    failed: [],
    itemsEmbedded: 0,
    itemsReused: 0,
    itemsWithoutText: 0,
  };
  let processed = 0;
  const advance = (count: number) => {
    processed += count;
    options.onProgress?.({ processed, total: ids.length });
  };
  const doneFlags =
    ids.length > 0 ? await redis.smismember(keys.service.reembedDone(model), ...ids) : [];
  const todo = ids.filter((_, i) => doneFlags[i] !== 1);
  report.alreadyDone = ids.length - todo.length;
  advance(report.alreadyDone);

  const itemsPerCall = Math.max(1, options.itemsPerCall ?? 500);
  let group: ClusterWork[] = [];
  let groupItems = 0;
  const flush = async () => {
    await embedGroup(embedder, itemVectors, group, report);
    for (const work of group) await finishCluster(redis, keys, itemVectors, work, report);
    advance(group.length);
    group = [];
    groupItems = 0;
  };
  for (const id of todo) {
    const work = await loadCluster(redis, keys, itemVectors, id, maxTextChars, report);
    group.push(work);
    groupItems += work.pending.length;
    if (groupItems >= itemsPerCall) await flush();
  }
  if (group.length > 0) await flush();
  await rebuildCalibration(redis, keys, model);
  return report;
}

/**
 * The model's calibration from scratch, from its clusters: the sum of a cluster's member
 * vectors is its size times its centroid, so the live clusters give the sum over all items.
 */
async function rebuildCalibration(redis: Redis, keys: Keyspace, model: string): Promise<void> {
  const { live } = await new ClusterStateStore(redis, keys).load(
    await new LiveClusters(redis, keys).ids(),
    model,
  );
  const store = new CalibrationStore(redis, keys);
  if (live.length === 0) return store.reset(model);
  await store.save(model, Calibration.fromClusters(live));
}

/** A cluster's members: vectors already of `model`, and prepared texts for the rest. */
async function loadCluster(
  redis: Redis,
  keys: Keyspace,
  itemVectors: ItemVectors,
  id: string,
  maxTextChars: number,
  report: ReEmbedReport,
): Promise<ClusterWork> {
  const members = await redis.smembers(keys.clusters.items(id));
  const work: ClusterWork = { id, vectors: new Map(), pending: [] };
  if (members.length === 0) return work;
  // Stored vectors carry their model's fingerprint: only the target model's are reused.
  const stored = await itemVectors.readStored(members);
  const toRead = members.filter((member) => {
    const vector = stored.get(member);
    if (!vector) return true;
    work.vectors.set(member, vector);
    report.itemsReused++;
    return false;
  });
  const pipeline = redis.pipeline();
  for (const member of toRead) pipeline.hgetall(keys.feedback.item(member));
  const hashes = (await pipeline.exec()) ?? [];
  toRead.forEach((member, i) => {
    const [error, hash] = hashes[i];
    if (error) throw error;
    const item = parseFeedbackHash(member, hash as Record<string, string>);
    const prepared = item ? prepareText(item, maxTextChars) : undefined;
    if (prepared?.ok) work.pending.push({ id: member, text: prepared.text });
    else report.itemsWithoutText++;
  });
  return work;
}

/** Embeds the pending members of a group of clusters in one call (the embedder batches it). */
async function embedGroup(
  embedder: Embedder,
  itemVectors: ItemVectors,
  group: ClusterWork[],
  report: ReEmbedReport,
): Promise<void> {
  const pending = group.flatMap((work) => work.pending.map((item) => ({ work, item })));
  if (pending.length === 0) return;
  const outcomes = await embedder.embed(pending.map(({ item }) => item.text));
  pending.forEach(({ work, item }, i) => {
    const outcome = outcomes[i];
    if (outcome.ok) {
      // As it will read back: the centroid is then exactly the mean of the stored vectors.
      work.vectors.set(item.id, itemVectors.asStored(outcome.vector));
      report.itemsEmbedded++;
    } else {
      work.failure ??= `item ${item.id}: ${outcome.reason}`;
    }
  });
}

/** Writes what was embedded; converts the cluster only if every member with text has a vector. */
async function finishCluster(
  redis: Redis,
  keys: Keyspace,
  itemVectors: ItemVectors,
  work: ClusterWork,
  report: ReEmbedReport,
): Promise<void> {
  const model = itemVectors.model;
  // Item vectors first (even for a cluster that failed): a rerun reuses them.
  const fresh = work.pending.filter((item) => work.vectors.has(item.id));
  if (fresh.length > 0) {
    const pipeline = redis.pipeline();
    for (const { id } of fresh) {
      const record = itemVectors.encode(work.vectors.get(id) as Float32Array);
      // Not stored for an embedder that recomputes vectors: the old model's goes.
      if (record) pipeline.hset(keys.service.itemVectors, id, record);
      else pipeline.hdel(keys.service.itemVectors, id);
    }
    await pipeline.exec();
  }
  if (work.failure) {
    report.failed.push({ clusterId: work.id, reason: work.failure });
    return;
  }
  const members = [...work.vectors.values()];
  if (members.length === 0) {
    report.failed.push({ clusterId: work.id, reason: 'no member has text to embed' });
    return;
  }
  const centroid = mean(members);
  const anchor = members.reduce((best, v) =>
    cosine(v, centroid) > cosine(best, centroid) ? v : best,
  );
  const written = await runScript(
    redis,
    'reembedCluster',
    [
      keys.clusters.all,
      keys.clusters.cluster(work.id),
      keys.service.anchors,
      keys.service.indexSeq,
      keys.service.indexChanges,
      keys.service.reembedDone(model),
    ],
    [
      work.id,
      model,
      JSON.stringify(Array.from(centroid, (x) => Math.round(x * 1e6) / 1e6)),
      encodeInt8Record(anchor, model),
    ],
    keys,
  );
  if (written === 1) report.converted++;
}

function mean(vectors: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(vectors[0].length);
  for (const v of vectors) for (let i = 0; i < out.length; i++) out[i] += v[i] / vectors.length;
  return out;
}
