import { Calibration } from '../calibration/calibration';
import { ClusterState } from '../ports/cluster-state';
import { JoinRule, similarityBetweenClusters } from '../pipeline/assign/cluster-similarity';
import { dot } from '../math/vector-math';

/** Thresholds on the calibrated scale (see `Calibration`). */
export interface MergeParams {
  /** Minimum likeness of two clusters (see `JoinRule`) for them to merge. */
  threshold: number;
  rule: JoinRule;
  /**
   * Minimum calibrated similarity of the two anchors: the merged cluster keeps the survivor's
   * anchor, so the absorbed cluster's origin must lie within reach of it (see assign).
   */
  anchorThreshold: number;
}

export interface MergePair {
  survivorId: string;
  absorbedId: string;
  similarity: number;
}

/**
 * Plans the merges of near-duplicate clusters. Greedy: pairs above the threshold are taken
 * from the most similar down, each cluster in at most one pair (the next sweep continues
 * from the merged state); the larger cluster survives (ties: the smaller id, so every
 * replica plans the same). With `changedIds`, only pairs with a changed cluster are
 * considered: two clusters that did not change were compared by an earlier sweep. Decisions are
 * taken on `calibration`'s scale.
 */
export function planMerges(
  rawClusters: readonly ClusterState[],
  params: MergeParams,
  calibration: Calibration,
  changedIds?: ReadonlySet<string>,
): MergePair[] {
  const clusters = rawClusters.map((c) => viewOf(c, calibration));
  const candidates: Array<{ a: number; b: number; similarity: number }> = [];
  for (let a = 0; a < clusters.length; a++) {
    const aChanged = !changedIds || changedIds.has(clusters[a].id);
    for (let b = a + 1; b < clusters.length; b++) {
      if (!aChanged && !changedIds?.has(clusters[b].id)) continue;
      const similarity = similarityBetweenClusters(
        clusters[a].centroid,
        clusters[b].centroid,
        params.rule,
      );
      if (similarity < params.threshold) continue;
      if (params.rule === 'members' && !nearDuplicates(clusters[a], clusters[b], similarity))
        continue;
      if (dot(clusters[a].anchor, clusters[b].anchor) < params.anchorThreshold) continue;
      candidates.push({ a, b, similarity });
    }
  }
  candidates.sort((x, y) => y.similarity - x.similarity);

  const taken = new Set<number>();
  const pairs: MergePair[] = [];
  for (const { a, b, similarity } of candidates) {
    if (taken.has(a) || taken.has(b)) continue;
    taken.add(a);
    taken.add(b);
    const [survivor, absorbed] = survivorFirst(clusters[a], clusters[b]);
    pairs.push({ survivorId: survivor.id, absorbedId: absorbed.id, similarity });
  }
  return pairs;
}

/** A cluster's centroid and anchor on the calibrated scale (the view of a mean is a mean). */
export function viewOf(state: ClusterState, calibration: Calibration): ClusterState {
  return {
    ...state,
    centroid: calibration.view(state.centroid),
    anchor: calibration.view(state.anchor),
  };
}

/** The larger cluster first; equal sizes by id, so the choice does not depend on input order. */
export function survivorFirst(a: ClusterState, b: ClusterState): [ClusterState, ClusterState] {
  if (a.size !== b.size) return a.size > b.size ? [a, b] : [b, a];
  return a.id < b.id ? [a, b] : [b, a];
}

/**
 * Mean similarity between distinct members of a cluster (its cohesion), from its centroid:
 * the squared length of a mean of unit vectors is the mean over all ordered pairs, self-pairs
 * included. Undefined for a single item.
 */
export function cohesion(centroid: Float32Array, size: number): number | undefined {
  if (size < 2) return undefined;
  return (size * dot(centroid, centroid) - 1) / (size - 1);
}

/** How much less alike across two clusters than within each still makes them duplicates. */
const NEAR_DUPLICATE_SLACK = 0.05;

/**
 * Near-duplicates: the members of each cluster are about as alike to the other cluster's
 * members as to their own (within `NEAR_DUPLICATE_SLACK`). Two neighbouring topics (two
 * intents about one product) are alike across, but less than within, and stay apart:
 * merging them would grow a catch-all one merge at a time.
 */
function nearDuplicates(a: ClusterState, b: ClusterState, across: number): boolean {
  const within = [cohesion(a.centroid, a.size), cohesion(b.centroid, b.size)].filter(
    (c): c is number => c !== undefined,
  );
  return within.every((c) => across >= c - NEAR_DUPLICATE_SLACK);
}
