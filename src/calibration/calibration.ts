import { ClusterState } from '../ports/cluster-state';
import { dot } from '../math/vector-math';

/**
 * Where one embedding model puts unrelated texts, learnt from the items it has embedded.
 *
 * Models differ in a direction that all their vectors share: the local embedder's unrelated
 * texts meet at a cosine near 0.1, hosted models' near 0.6-0.8. Every clustering decision is
 * therefore taken on the calibrated scale: with `mu` the mean of the model's unit item vectors,
 * `b = |mu|^2` (the mean cosine of two random items, the background) and the view
 * `v' = (v - mu) / sqrt(1 - b)`, the calibrated similarity of two items is `x'·y'`
 * `= (x·y - x·mu - y·mu + b) / (1 - b)`: about 0 for unrelated items and 1 for identical
 * ones, whatever the model's background. The view is affine, so means commute with it: the view
 * of a raw centroid is the mean of its members' views, and the members rule, cohesion and merged
 * means keep their meaning. Centroids stay raw in Redis (the contract's mean item embedding), so
 * refining the calibration never rewrites clusters: they are all seen through the current one.
 *
 * Shifting every vector along one common direction and re-normalising (`(s + a·o) / |s + a·o|`
 * with `o` orthogonal to the texts' own directions) leaves every calibrated similarity unchanged:
 * `v - mu` loses the offset entirely and both it and `sqrt(1 - b)` shrink by `|s + a·o|`.
 */
export class Calibration {
  /** No calibration: the view is the vector itself (raw cosine). */
  static readonly none = new Calibration(new Float64Array(0), 0);

  /** The mean direction the views are centred on. */
  readonly mean: Float32Array;
  /** Mean cosine of two unrelated items of this model: `|mean|^2`. */
  readonly background: number;
  private readonly scale: number;
  /** `scale²`: the factor of calibrated similarities computed from dot products. */
  private readonly scaleSquared: number;

  /**
   * @param sum the sum of the model's unit item vectors seen so far (float64: it only grows)
   * @param count how many vectors `sum` adds up
   */
  constructor(
    readonly sum: Float64Array,
    readonly count: number,
  ) {
    // A plain mean (weights summing to 1) keeps the view exactly invariant to a common shift; the
    // price is that the first few items of a new model, each a large share of the mean, look
    // less alike than they are: they may found clusters of their own, which sweeps absorb.
    this.mean = new Float32Array(sum.length);
    for (let i = 0; i < sum.length; i++) this.mean[i] = count === 0 ? 0 : sum[i] / count;
    this.background = count === 0 ? 0 : dot(this.mean, this.mean);
    // A background of 1 would mean every item is the same vector; keep the scale finite.
    this.scale = 1 / Math.sqrt(Math.max(1 - this.background, 1e-6));
    this.scaleSquared = this.scale * this.scale;
  }

  /** `v·mean`: how far a vector lies along the model's common direction (0 uncalibrated). */
  along(vector: Float32Array): number {
    return this.count === 0 || vector.length !== this.mean.length ? 0 : dot(vector, this.mean);
  }

  /**
   * The calibrated similarity `x'·y'` of two raw vectors from their dot product and each one's
   * `along`: `(x·y - x·mean - y·mean + background) / (1 - background)`. The same number as the
   * dot product of their views, without building them (the assignment's hot loop).
   */
  similarity(rawDot: number, alongX: number, alongY: number): number {
    return (rawDot - alongX - alongY + this.background) * this.scaleSquared;
  }

  /** The calibration of the items of these clusters (a centroid is the mean of its members). */
  static fromClusters(clusters: readonly ClusterState[]): Calibration {
    if (clusters.length === 0) return Calibration.none;
    const sum = new Float64Array(clusters[0].centroid.length);
    let count = 0;
    for (const { centroid, size } of clusters) {
      if (centroid.length !== sum.length) continue;
      for (let i = 0; i < sum.length; i++) sum[i] += centroid[i] * size;
      count += size;
    }
    return new Calibration(sum, count);
  }

  /** The calibration refined with more unit item vectors of the same model. */
  withItems(vectors: readonly Float32Array[]): Calibration {
    if (vectors.length === 0) return this;
    const dimensions = this.count === 0 ? vectors[0].length : this.sum.length;
    const sum = new Float64Array(dimensions);
    sum.set(this.sum.subarray(0, Math.min(this.sum.length, dimensions)));
    for (const vector of vectors) {
      if (vector.length !== dimensions) continue;
      for (let i = 0; i < dimensions; i++) sum[i] += vector[i];
    }
    return new Calibration(sum, this.count + vectors.length);
  }

  /**
   * The vector on the calibrated scale: `(v - mean) / sqrt(1 - background)`. Dot products of
   * views are calibrated similarities; the view of a mean is the mean of the views.
   */
  view(vector: Float32Array): Float32Array {
    if (this.count === 0 || vector.length !== this.mean.length) return vector;
    const out = new Float32Array(vector.length);
    for (let i = 0; i < vector.length; i++) out[i] = (vector[i] - this.mean[i]) * this.scale;
    return out;
  }
}
