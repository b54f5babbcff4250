import { Index, MetricKind, ScalarKind } from 'usearch';
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
  private readonly idsByKey = new Map<bigint, string>();
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
    // M 16 and expansion 64: recall is recovered by oversampling and the exact re-rank.
    this.graph = new Index({
      dimensions: this.projection?.outputDimensions ?? dimensions,
      metric: MetricKind.Cos,
      quantization: ScalarKind.F32,
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
    for (const query of queries) {
      await slice.pause();
      found.push(this.nearest(query, k * OVERSAMPLE).map(decode));
    }
    return found;
  }

  /** The state of a cluster the index holds (for sweeps), or undefined. */
  state(id: string): ClusterState | undefined {
    const cluster = this.clusters.get(id);
    return cluster && stateOf(cluster);
  }

  private nearest(query: Float32Array, wanted: number): IndexedCluster[] {
    const { keys } = this.graph.search(this.sketch(query), Math.min(wanted, this.clusters.size), 1);
    const out: IndexedCluster[] = [];
    for (const key of keys) {
      const id = this.idsByKey.get(key);
      const cluster = id === undefined ? undefined : this.clusters.get(id);
      if (cluster) out.push(cluster);
    }
    return out;
  }

  private async putAll(states: readonly ClusterState[]): Promise<void> {
    const slice = new TimeSlice();
    for (const state of states) {
      await slice.pause();
      this.put(state);
    }
  }

  private put(state: ClusterState): void {
    const existing = this.clusters.get(state.id);
    const sketch = this.sketch(state.centroid);
    if (existing) {
      existing.centroid = state.centroid;
      existing.size = state.size;
      existing.anchor = quantizeInt8(state.anchor);
      if (dot(existing.inGraph, sketch) >= REINSERT_BELOW_COSINE) return;
      // The graph takes a key once: replacing a vector is removing it and adding it again.
      this.graph.remove(existing.key);
      this.graph.add(existing.key, sketch);
      existing.inGraph = sketch;
      return;
    }
    const key = this.freeKeys.pop() ?? this.nextKey++;
    this.graph.add(key, sketch);
    this.idsByKey.set(key, state.id);
    this.clusters.set(state.id, {
      id: state.id,
      key,
      centroid: state.centroid,
      anchor: quantizeInt8(state.anchor),
      size: state.size,
      inGraph: sketch,
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
    this.idsByKey.delete(cluster.key);
    this.clusters.delete(id);
    this.freeKeys.push(cluster.key);
  }
}

function stateOf(cluster: IndexedCluster): ClusterState {
  return {
    id: cluster.id,
    centroid: cluster.centroid,
    anchor: dequantizeInt8(cluster.anchor),
    size: cluster.size,
  };
}
