import { HierarchicalNSW } from 'hnswlib-node';
import { ClusterState } from '../../clusters/cluster-state';
import { ClusterStateStore } from '../../clusters/cluster-state.store';
import { dot, normalize } from '../../pipeline/assign/vector-math';
import { ClusterCandidate, VectorIndex } from '../../vector-index/vector-index.port';
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
 * The graph holds a low-dimensional sketch of each centroid (see SketchProjection): inserting
 * and searching cost grows with dimensions, and the exact re-rank of the candidates restores
 * full precision. With 64 dimensions (sketch error about 0.12 in cosine) and the oversampled
 * candidate list, 98.7% of near-cluster queries still find their cluster among 50,000
 * (`npm run bench`), against 97% with 128, and search and inserts are cheaper.
 */
const GRAPH_DIMENSIONS = 64;
/**
 * A centroid is re-inserted in the graph only once its sketch moved this far (cosine) from
 * the copy in the graph: re-linking a node is the graph's most expensive operation, and a
 * cluster's centroid barely moves as it grows. The candidates are re-ranked on exact state.
 */
const REINSERT_BELOW_COSINE = 0.99;

/**
 * The default vector index: cluster centroids held in process in an HNSW graph
 * (hnswlib-node), mirrored from the state the persist stage keeps in Redis. `refresh`
 * reads the change feed, so clusters created by other replicas are found too.
 */
export class EmbeddedVectorIndex implements VectorIndex {
  readonly name = 'embedded';
  private readonly states = new Map<string, ClusterState>();
  private readonly labels = new Map<string, number>();
  private readonly idsByLabel = new Map<number, string>();
  /** The sketch each cluster has in the graph now. */
  private readonly inGraph = new Map<string, Float32Array>();
  private readonly projection: SketchProjection | undefined;
  private graph: HierarchicalNSW;
  private capacity = 1024;
  private nextLabel = 0;
  private seq = 0;

  constructor(
    private readonly store: ClusterStateStore,
    private readonly model: string,
    private readonly dimensions: number,
  ) {
    this.projection =
      dimensions > GRAPH_DIMENSIONS
        ? new SketchProjection(dimensions, GRAPH_DIMENSIONS)
        : undefined;
    this.graph = this.newGraph(this.capacity);
  }

  size(): number {
    return this.states.size;
  }

  async refresh(): Promise<void> {
    const feed = await this.store.changesSince(this.seq, this.model);
    if (feed.reset) this.clear();
    for (const id of feed.removedIds) this.remove(id);
    for (const state of feed.live) this.put(state);
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
    for (const state of changed) this.put(state);
    this.seq = seqAfter;
  }

  async candidates(queries: readonly Float32Array[], k: number): Promise<ClusterCandidate[][]> {
    return queries.map((q) => this.nearest(q, k));
  }

  private nearest(query: Float32Array, k: number): ClusterCandidate[] {
    if (this.states.size <= EXACT_SCAN_LIMIT) return [...this.states.values()];
    const wanted = Math.min(k * OVERSAMPLE, this.states.size);
    this.graph.setEf(Math.max(wanted, 64));
    const { neighbors } = this.graph.searchKnn(Array.from(this.sketch(query)), wanted);
    const found: ClusterCandidate[] = [];
    for (const label of neighbors) {
      const id = this.idsByLabel.get(label);
      const state = id === undefined ? undefined : this.states.get(id);
      if (state) found.push(state);
    }
    return found;
  }

  private put(state: ClusterState): void {
    this.states.set(state.id, state);
    let label = this.labels.get(state.id);
    if (label === undefined) {
      label = this.nextLabel++;
      this.labels.set(state.id, label);
      this.idsByLabel.set(label, state.id);
      if (this.graph.getCurrentCount() >= this.capacity) {
        this.capacity *= 2;
        this.graph.resizeIndex(this.capacity);
      }
    }
    const sketch = this.sketch(state.centroid);
    const current = this.inGraph.get(state.id);
    if (current && dot(current, sketch) >= REINSERT_BELOW_COSINE) return;
    // Adding an existing label replaces its vector in place.
    this.graph.addPoint(Array.from(sketch), label);
    this.inGraph.set(state.id, sketch);
  }

  private sketch(v: Float32Array): Float32Array {
    return this.projection ? this.projection.project(v) : normalize(v);
  }

  /** Forgets every cluster (after the change feed was reset), with a fresh graph. */
  private clear(): void {
    this.states.clear();
    this.labels.clear();
    this.idsByLabel.clear();
    this.inGraph.clear();
    this.capacity = 1024;
    this.nextLabel = 0;
    this.graph = this.newGraph(this.capacity);
  }

  private remove(id: string): void {
    const label = this.labels.get(id);
    if (label === undefined) return;
    this.graph.markDelete(label);
    this.labels.delete(id);
    this.idsByLabel.delete(label);
    this.states.delete(id);
    this.inGraph.delete(id);
  }

  private newGraph(capacity: number): HierarchicalNSW {
    const graph = new HierarchicalNSW(
      'cosine',
      this.projection?.outputDimensions ?? this.dimensions,
    );
    // M 16 and efConstruction 64: recall is recovered by oversampling and the exact re-rank,
    // while a higher efConstruction made every insert (and a cold start) several times slower.
    graph.initIndex(capacity, 16, 64, 100);
    return graph;
  }
}
