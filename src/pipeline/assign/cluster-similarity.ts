import { cosine, dot, norm } from '../../math/vector-math';

/**
 * How an item's (or a cluster's) likeness to a cluster is measured; every decision that
 * compares with JOIN_THRESHOLD or MERGE_THRESHOLD (join, move, merge) uses the same rule, on
 * calibrated views of the vectors (see `Calibration`).
 * - `members`: the mean similarity to the cluster's members, which is the dot product with the
 *   (viewed) centroid, the mean of the members' views. A loose cluster scores low, so it stops
 *   absorbing borderline items instead of growing into a catch-all.
 * - `centroid`: cosine similarity to the centroid, whatever the cluster's spread.
 */
export type JoinRule = 'members' | 'centroid';

/** Likeness of a unit-length vector to a cluster with this centroid. */
export function similarityToCluster(
  vector: Float32Array,
  centroid: Float32Array,
  rule: JoinRule,
  centroidNorm?: number,
): number {
  if (rule === 'members') return dot(vector, centroid);
  // Computed here, not as a default parameter, so the members rule never pays for it.
  const length = centroidNorm ?? norm(centroid);
  return length === 0 ? 0 : dot(vector, centroid) / length;
}

/** Likeness of two clusters: mean similarity across their members, or cosine of centroids. */
export function similarityBetweenClusters(
  a: Float32Array,
  b: Float32Array,
  rule: JoinRule,
): number {
  return rule === 'members' ? dot(a, b) : cosine(a, b);
}
