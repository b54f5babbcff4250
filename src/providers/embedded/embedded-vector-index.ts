import { BatchMatches, Index, Matches, MetricKind, ScalarKind } from 'usearch';
import { ClusterState } from '../../ports/cluster-state';
import { ClusterStateStore } from '../../clusters/cluster-state.store';
import { dequantizeInt8, dot, Int8Vector, normalize, quantizeInt8 } from '../../math/vector-math';
import { ClusterCandidate, VectorIndex } from '../../ports/vector-index.port';
import { TimeSlice } from '../../runtime/time-slice';
import { SketchProjection } from './sketch-projection';

/**
 * Below this many clusters every cluster is a candidate (exact, and as cheap as the graph).
 * Above it the graph's candidates are re-ranked exactly: a full scan costs clusters × dimensions
 * per item, which at a thousand clusters already dominates a batch.
 */
export const EXACT_SCAN_LIMIT = 128;
/** Candidates asked of the approximate graph per wanted candidate, before the exact re-rank. */
const OVERSAMPLE = 3;
/**
 * Queries searched in one call of the graph (a native call per query cost ~20% more). A call
 * blocks the event loop: 32 queries took ~45 ms at 50,000 clusters on a loaded 2-core machine,
 * within the service's 100 ms bound.
 */
const SEARCH_BATCH = 32;
/**
 * New clusters added to the graph per call, on every core (a cold start adds them all): 64
 * took ~35 ms at 50,000 clusters, and loading 50,000 took 28 s against 66-87 s one by one.
 */
const ADD_BATCH = 64;
/**
 * A centroid is re-inserted in the graph only once it moved this far (cosine) from the copy in
 * the graph: re-linking a node is the graph's most expensive operation, and a cluster's
 * centroid barely moves as it grows. The candidates are re-ranked on exact state.
 */
const REINSERT_BELOW_COSINE = 0.99;
/**
 * The graph holds a low-dimensional sketch of each centroid (see SketchProjection): inserting
 * and searching cost grows with dimensions, and the exact re-rank of the candidates restores
 * full precision. At 50,000 clusters, searching full 1324-d int8 vectors found 97% of the
 * exact top 10 but cost ~7× the time per search and ~20× per insert of 64-d sketches, whose
 * oversampled candidates still hold the nearest cluster 99.8% of the time
 * (`scripts/compare-vector-indexes.ts`, README "Vector index").
 */
const GRAPH_DIMENSIONS = 64;

/**
 * What the index keeps per cluster: the exact centroid (the re-rank and every decision use
 * it), the anchor as int8 (it is only compared with ANCHOR_THRESHOLD) and the sketch as it is
 * in the graph (to decide when to re-insert). At 1324 dimensions: 5.3 KB + 1.3 KB + 0.25 KB,
 * plus the graph's node (~0.5 KB), whatever the cluster's size (README "Process memory").
 */
interface IndexedCluster {
  id: string;
  key: bigint;
  centroid: Float32Array;
  anchor: Int8Vector;
  size: number;
  inGraph: Float32Array;
}

/**
 * The default vector index: cluster centroids held in process in an HNSW graph (usearch, over
 * 64-d sketches, cosine), mirrored from the state the persist stage keeps in Redis. `refresh` reads
 * the change feed, so clusters created by other replicas are found too. A removed cluster's
 * graph slot is reused by the next insert, so churn (merges) does not grow the graph.
 * The library was chosen by `scripts/compare-vector-indexes.ts` (README "Vector index").
 */
export class EmbeddedVectorIndex implements VectorIndex {
  readonly name = 'embedded';
  private readonly clusters = new Map<string, IndexedCluster>();
  /** Cluster by graph key (keys are small slot numbers, reused): no hashing of bigint keys. */
  private readonly bySlot: Array<IndexedCluster | undefined> = [];
  /** Keys of removed clusters, handed out again before new ones. */
  private readonly freeKeys: bigint[] = [];
  private readonly graph: Index;
  private readonly projection: SketchProjection | undefined;
  private nextKey = 0n;
  private seq = 0;

  constructor(
    private readonly store: ClusterStateStore,
    private readonly model: string,
    dimensions: number,
  ) {
    this.projection =
      dimensions > GRAPH_DIMENSIONS
        ? new SketchProjection(dimensions, GRAPH_DIMENSIONS)
        : undefined;
    // M 16 and expansion 64: recall is recovered by oversampling and the exact re-rank. The
    // sketches are held as int8 (the re-rank is exact anyway): at 50,000 clusters this loaded
    // the graph in 28 s against 44 s for float32, searched 15% faster, and the nearest cluster
    // was found as often (99.5%).
    this.graph = new Index({
      dimensions: this.projection?.outputDimensions ?? dimensions,
      metric: MetricKind.Cos,
      quantization: ScalarKind.I8,
      connectivity: 16,
      expansion_add: 64,
      expansion_search: 64,
      multi: false,
    });
  }

  size(): number {
    return this.clusters.size;
  }

  /** Slots the graph has allocated: removed clusters' slots are reused, so this tracks size. */
  graphCapacity(): number {
    return this.graph.capacity();
  }

  async refresh(): Promise<void> {
    const feed = await this.store.changesSince(this.seq, this.model);
    if (feed.reset) this.clear();
    for (const id of feed.removedIds) this.remove(id);
    await this.putAll(feed.live);
    this.seq = feed.seq;
  }

  /**
   * Takes this process's own writes without reading them back from Redis, when they directly
   * follow what the index has seen (nothing else was written in between); otherwise the next
   * refresh reads them with everyone else's.
   */
  async clustersChanged(
    changed: readonly ClusterState[],
    removedIds: readonly string[],
    seqAfter?: number,
  ): Promise<void> {
    if (seqAfter === undefined || this.seq + changed.length + removedIds.length !== seqAfter)
      return;
    for (const id of removedIds) this.remove(id);
    await this.putAll(changed);
    this.seq = seqAfter;
  }

  async candidates(queries: readonly Float32Array[], k: number): Promise<ClusterCandidate[][]> {
    if (this.clusters.size <= EXACT_SCAN_LIMIT) {
      const all = [...this.clusters.values()].map(stateOf);
      return queries.map(() => all);
    }
    // Queries of one batch share many candidates: each is decoded once per call.
    const decoded = new Map<IndexedCluster, ClusterState>();
    const decode = (cluster: IndexedCluster) => {
      let state = decoded.get(cluster);
      if (!state) decoded.set(cluster, (state = stateOf(cluster)));
      return state;
    };
    const slice = new TimeSlice();
    const found: ClusterCandidate[][] = [];
    const wanted = Math.min(k * OVERSAMPLE, this.clusters.size);
    for (let start = 0; start < queries.length; start += SEARCH_BATCH) {
      await slice.pause();
      const batch = queries.slice(start, start + SEARCH_BATCH);
      for (const keys of this.search(batch, wanted)) found.push(this.clustersOf(keys).map(decode));
    }
    return found;
  }

  /** The state of a cluster the index holds (for sweeps), or undefined. */
  state(id: string): ClusterState | undefined {
    const cluster = this.clusters.get(id);
    return cluster && stateOf(cluster);
  }

  /** The graph's keys nearest to each query, one call for the whole batch. */
  private search(queries: readonly Float32Array[], wanted: number): BigUint64Array[] {
    const sketches = queries.map((query) => this.sketch(query));
    // A batch of one query comes back as plain Matches, whatever the typings say.
    const matches = this.graph.search(sketches, wanted, 1) as Matches | BatchMatches;
    if (matches instanceof BatchMatches) return sketches.map((_, i) => matches.get(i).keys);
    return [matches.keys];
  }

  private clustersOf(keys: BigUint64Array): IndexedCluster[] {
    const out: IndexedCluster[] = [];
    for (const key of keys) {
      const cluster = this.bySlot[Number(key)];
      if (cluster) out.push(cluster);
    }
    return out;
  }

  private async putAll(states: readonly ClusterState[]): Promise<void> {
    const slice = new TimeSlice();
    const fresh = new Map<string, ClusterState>();
    for (const state of states) {
      await slice.pause();
      if (this.clusters.has(state.id)) this.update(state);
      else fresh.set(state.id, state);
    }
    const inserts = [...fresh.values()];
    for (let start = 0; start < inserts.length; start += ADD_BATCH) {
      await slice.pause();
      this.insert(inserts.slice(start, start + ADD_BATCH));
    }
  }

  private update(state: ClusterState): void {
    const existing = this.clusters.get(state.id) as IndexedCluster;
    const sketch = this.sketch(state.centroid);
    existing.centroid = state.centroid;
    existing.size = state.size;
    existing.anchor = quantizeInt8(state.anchor);
    if (dot(existing.inGraph, sketch) >= REINSERT_BELOW_COSINE) return;
    // The graph takes a key once: replacing a vector is removing it and adding it again.
    this.graph.remove(existing.key);
    this.graph.add(existing.key, sketch);
    existing.inGraph = sketch;
  }

  /** New clusters, added to the graph in one call (on every core: a cold start loads them all). */
  private insert(states: readonly ClusterState[]): void {
    const keys = states.map(() => this.freeKeys.pop() ?? this.nextKey++);
    const sketches = states.map((state) => this.sketch(state.centroid));
    this.graph.add(keys, sketches, 0);
    states.forEach((state, i) => {
      const cluster: IndexedCluster = {
        id: state.id,
        key: keys[i],
        centroid: state.centroid,
        anchor: quantizeInt8(state.anchor),
        size: state.size,
        inGraph: sketches[i],
      };
      this.bySlot[Number(keys[i])] = cluster;
      this.clusters.set(state.id, cluster);
    });
  }

  private sketch(v: Float32Array): Float32Array {
    return this.projection ? this.projection.project(v) : normalize(v);
  }

  /** Forgets every cluster (after the change feed was reset); the graph's slots are reused. */
  private clear(): void {
    for (const id of [...this.clusters.keys()]) this.remove(id);
  }

  private remove(id: string): void {
    const cluster = this.clusters.get(id);
    if (!cluster) return;
    this.graph.remove(cluster.key);
    this.bySlot[Number(cluster.key)] = undefined;
    this.clusters.delete(id);
    this.freeKeys.push(cluster.key);
  }
}

function stateOf(cluster: IndexedCluster): ClusterState {
  const codes = cluster.anchor;
  let anchor: Float32Array | undefined;
  return {
    id: cluster.id,
    centroid: cluster.centroid,
    size: cluster.size,
    // Decoded when first read: most candidates fail the join bar before their anchor is
    // compared, and at 50,000 clusters decoding every candidate's anchor cost more than the
    // graph search.
    get anchor() {
      return (anchor ??= dequantizeInt8(codes));
    },
  };
}
