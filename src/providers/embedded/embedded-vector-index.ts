import { HierarchicalNSW } from 'hnswlib-node';
import { ClusterState } from '../../clusters/cluster-state';
import { ClusterStateStore } from '../../clusters/cluster-state.store';
import { ClusterCandidate, VectorIndex } from '../../vector-index/vector-index.port';

/**
 * Below this many clusters every cluster is a candidate (exact, and as cheap as the graph).
 * Above it the graph's candidates are re-ranked exactly: a full scan costs clusters × dimensions
 * per item, which at a thousand clusters already dominates a batch.
 */
const EXACT_SCAN_LIMIT = 128;
/** Candidates asked of the approximate graph per wanted candidate, before the exact re-rank. */
const OVERSAMPLE = 3;

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
  private graph: HierarchicalNSW;
  private capacity = 1024;
  private nextLabel = 0;
  private seq = 0;

  constructor(
    private readonly store: ClusterStateStore,
    private readonly model: string,
    private readonly dimensions: number,
  ) {
    this.graph = this.newGraph(this.capacity);
  }

  size(): number {
    return this.states.size;
  }

  async refresh(): Promise<void> {
    const feed = await this.store.changesSince(this.seq, this.model);
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
    const { neighbors } = this.graph.searchKnn(Array.from(query), wanted);
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
    // Adding an existing label replaces its vector in place.
    this.graph.addPoint(Array.from(state.centroid), label);
  }

  private remove(id: string): void {
    const label = this.labels.get(id);
    if (label === undefined) return;
    this.graph.markDelete(label);
    this.labels.delete(id);
    this.idsByLabel.delete(label);
    this.states.delete(id);
  }

  private newGraph(capacity: number): HierarchicalNSW {
    const graph = new HierarchicalNSW('cosine', this.dimensions);
    graph.initIndex(capacity, 16, 200, 100);
    return graph;
  }
}
