import { Calibration } from '../calibration/calibration';
import { ClusterState } from '../ports/cluster-state';
import { dot } from '../math/vector-math';
import { joinBar } from '../pipeline/assign/assign-batch';
import { MergePair, viewOf } from './merge-plan';

/** Thresholds on the calibrated scale (see `Calibration`). */
export interface AbsorbParams {
  /** Clusters of at most this many items are absorbed into a larger neighbour. */
  maxSize: number;
  /**
   * Minimum calibrated similarity between the small cluster's members and the target's
   * (mean across them): how clearly nearer the target than the background (0) they must be.
   */
  threshold: number;
  /** Raises the bar with the target's size, as for joins, so no target grows into a catch-all. */
  growthPenalty: number;
  /** Minimum calibrated similarity of the two anchors (see merge). */
  anchorThreshold: number;
}

/**
 * Plans absorptions of small clusters (singletons and pairs left behind by items that arrived
 * before their topic's cluster had formed, or just missed the join bar) into the larger cluster
 * whose members they resemble most, when that likeness clears the bar. Targets are the clusters
 * above `maxSize` (small ones do not collect each other); a target takes several small clusters
 * in one sweep, its bar rising as it grows. Most similar first; each small cluster at most once.
 */
export function planAbsorptions(
  rawClusters: readonly ClusterState[],
  params: AbsorbParams,
  calibration: Calibration,
): MergePair[] {
  const clusters = rawClusters.map((c) => viewOf(c, calibration));
  const small = clusters.filter((c) => c.size <= params.maxSize);
  const targets = clusters.filter((c) => c.size > params.maxSize);
  const candidates: Array<{ small: ClusterState; target: ClusterState; similarity: number }> = [];
  for (const s of small) {
    let best: { target: ClusterState; similarity: number } | undefined;
    for (const t of targets) {
      const similarity = dot(s.centroid, t.centroid);
      if (similarity <= (best?.similarity ?? -Infinity)) continue;
      if (dot(s.anchor, t.anchor) < params.anchorThreshold) continue;
      best = { target: t, similarity };
    }
    if (best) candidates.push({ small: s, ...best });
  }
  candidates.sort((a, b) => b.similarity - a.similarity);

  const grown = new Map<string, number>();
  const pairs: MergePair[] = [];
  for (const { small: s, target, similarity } of candidates) {
    const size = grown.get(target.id) ?? target.size;
    if (similarity < joinBar(params.threshold, params.growthPenalty, size)) continue;
    grown.set(target.id, size + s.size);
    pairs.push({ survivorId: target.id, absorbedId: s.id, similarity });
  }
  return pairs;
}

/** Whether `small` may still be absorbed into `target` (the executor's check on fresh state). */
export function stillAbsorbable(
  target: ClusterState,
  small: ClusterState,
  params: AbsorbParams,
  calibration: Calibration,
): boolean {
  const pairs = planAbsorptions([target, small], params, calibration);
  return pairs.length === 1 && pairs[0].survivorId === target.id;
}
