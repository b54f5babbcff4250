import { Calibration } from '../calibration/calibration';
import { ClusterState } from '../clusters/cluster-state';
import { dot } from '../pipeline/assign/vector-math';
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
 * whose members they resemble most, when that likeness clears the bar. The target must be
 * larger than the small cluster; a target takes several small clusters in one sweep, its bar
 * rising as it grows. Most similar first; each small cluster at most once.
 */
export function planAbsorptions(
  rawClusters: readonly ClusterState[],
  params: AbsorbParams,
  calibration: Calibration,
): MergePair[] {
  const clusters = rawClusters.map((c) => viewOf(c, calibration));
  const small = clusters.filter((c) => c.size <= params.maxSize);
  const targets = clusters.filter((c) => c.size > 1);
  const candidates: Array<{ small: ClusterState; target: ClusterState; similarity: number }> = [];
  for (const s of small) {
    let best: { target: ClusterState; similarity: number } | undefined;
    for (const t of targets) {
      if (t.id === s.id || t.size <= s.size) continue;
      const similarity = dot(s.centroid, t.centroid);
      if (similarity <= (best?.similarity ?? -Infinity)) continue;
      if (dot(s.anchor, t.anchor) < params.anchorThreshold) continue;
      best = { target: t, similarity };
    }
    if (best) candidates.push({ small: s, ...best });
  }
  candidates.sort((a, b) => b.similarity - a.similarity);

  const grown = new Map<string, number>();
  const absorbed = new Set<string>();
  const pairs: MergePair[] = [];
  for (const { small: s, target, similarity } of candidates) {
    // A small cluster that is itself a target of an earlier absorption stays.
    if (absorbed.has(target.id) || grown.has(s.id)) continue;
    const size = grown.get(target.id) ?? target.size;
    if (similarity < joinBar(params.threshold, params.growthPenalty, size)) continue;
    grown.set(target.id, size + s.size);
    absorbed.add(s.id);
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
