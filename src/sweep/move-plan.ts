import { Calibration } from '../calibration/calibration';
import { ClusterState } from '../ports/cluster-state';
import { JoinRule, similarityToCluster } from '../pipeline/assign/cluster-similarity';
import { dot, norm } from '../math/vector-math';
import { viewOf } from './merge-plan';

/** A clustered item with its vector and the cluster it is in. */
export interface PlacedItem {
  id: string;
  clusterId: string;
  vector: Float32Array;
}

/** Thresholds on the calibrated scale (see `Calibration`). */
export interface MoveParams {
  /** An item may only move to a cluster it could have joined (see assign). */
  joinThreshold: number;
  anchorThreshold: number;
  /** How much more similar the other cluster must be than the item's own. */
  margin: number;
  rule: JoinRule;
}

export interface PlannedMove {
  itemId: string;
  from: string;
  to: string;
  /** Similarity to the target minus similarity to the own cluster (without the item). */
  gain: number;
}

/**
 * Plans moves of items that fit another cluster far better than their own. The own cluster
 * is judged without the item (its centroid minus the item's share), else every item would
 * look at home in the cluster it shaped. No move empties a cluster: a cluster of one is a
 * matter for merging. Most gain first. Decisions are taken on `calibration`'s scale.
 */
export function planMoves(
  rawItems: readonly PlacedItem[],
  rawClusters: readonly ClusterState[],
  params: MoveParams,
  calibration: Calibration,
): PlannedMove[] {
  const items = rawItems.map((item) => ({ ...item, vector: calibration.view(item.vector) }));
  const clusters = rawClusters.map((c) => viewOf(c, calibration));
  const byId = new Map(clusters.map((c) => [c.id, c]));
  const norms = new Map(clusters.map((c) => [c.id, norm(c.centroid)]));
  const candidates: PlannedMove[] = [];
  for (const item of items) {
    const own = byId.get(item.clusterId);
    if (!own || own.size < 2) continue;
    const ownSimilarity = similarityToCluster(
      item.vector,
      removeFromMean(own.centroid, own.size, item.vector),
      params.rule,
    );
    let best: { id: string; similarity: number } | undefined;
    for (const other of clusters) {
      const otherNorm = norms.get(other.id) ?? 0;
      if (other.id === own.id || otherNorm === 0) continue;
      const similarity = similarityToCluster(item.vector, other.centroid, params.rule, otherNorm);
      if (similarity < params.joinThreshold || similarity <= (best?.similarity ?? -Infinity))
        continue;
      if (dot(item.vector, other.anchor) < params.anchorThreshold) continue;
      best = { id: other.id, similarity };
    }
    if (best && best.similarity - ownSimilarity >= params.margin) {
      candidates.push({
        itemId: item.id,
        from: own.id,
        to: best.id,
        gain: best.similarity - ownSimilarity,
      });
    }
  }
  candidates.sort((a, b) => b.gain - a.gain);

  const remaining = new Map(clusters.map((c) => [c.id, c.size]));
  const moves: PlannedMove[] = [];
  for (const move of candidates) {
    const left = remaining.get(move.from) ?? 0;
    if (left <= 1) continue;
    remaining.set(move.from, left - 1);
    remaining.set(move.to, (remaining.get(move.to) ?? 0) + 1);
    moves.push(move);
  }
  return moves;
}

/** The mean of `count` vectors after removing `vector` from them. */
export function removeFromMean(
  mean: Float32Array,
  count: number,
  vector: Float32Array,
): Float32Array {
  const out = new Float32Array(mean.length);
  if (count <= 1) return out;
  for (let i = 0; i < mean.length; i++) out[i] = (mean[i] * count - vector[i]) / (count - 1);
  return out;
}
