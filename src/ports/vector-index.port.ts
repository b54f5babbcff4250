import { ReadinessCheck } from './provider-readiness';
import { ClusterState } from './cluster-state';

/** A cluster that may be nearest to a query vector, with its current state for an exact re-rank. */
export type ClusterCandidate = ClusterState;

/**
 * Port: finds the clusters nearest to a vector and stores item vectors.
 * Adapters: embedded (in-process ANN over state kept in Redis), Upstash Vector.
 *
 * Cluster state is written by the persist stage in Redis (atomically with the items);
 * an index is a searchable mirror of it that must reflect every change up to the moment
 * `refresh` returns, including clusters other replicas created.
 */
/**
 * What a remote index proposed per query (nearest cluster ids), asked before the assignment
 * lock is taken; `unavailable` when it could not answer, so candidates come from Redis alone.
 */
export type CandidateProposals = ReadonlyArray<readonly string[]> | 'unavailable';

export interface VectorIndex extends ReadinessCheck {
  readonly name: string;
  /** Catch up with cluster changes made since the last refresh (by any replica); Redis only. */
  refresh(): Promise<void>;
  /**
   * For an index behind a network call (Upstash): the slow part of `candidates`, done before
   * the assignment lock, so that no provider call is made while holding it.
   */
  propose?(queries: readonly Float32Array[], k: number): Promise<CandidateProposals>;
  /**
   * For each query, up to `k` candidate clusters with their current state (order not
   * significant); `proposals`, when given, is what `propose` answered for these queries.
   */
  candidates(
    queries: readonly Float32Array[],
    k: number,
    proposals?: CandidateProposals,
  ): Promise<ClusterCandidate[][]>;
  /**
   * Called after the persist stage wrote these clusters (created, updated or removed).
   * `seqAfter`, when known, is the change feed's sequence number right after the write.
   */
  clustersChanged(
    changed: readonly ClusterState[],
    removedIds: readonly string[],
    seqAfter?: number,
  ): Promise<void>;
  /**
   * For an index that keeps item vectors too (Upstash): called after the persist stage wrote
   * these items. Redis holds their vectors already, so a failure loses nothing assignment needs.
   */
  upsertItems?(items: ReadonlyArray<{ id: string; vector: Float32Array }>): Promise<void>;
  /** Number of live clusters the index knows. */
  size(): number;
}

export const VECTOR_INDEX = Symbol('VectorIndex');
