/** What assignment needs to know of a live cluster. */
export interface ClusterState {
  id: string;
  /** Mean of the member vectors (not normalised). */
  centroid: Float32Array;
  /**
   * The vector the cluster was founded on (an item vector, so unit length); keeps the
   * cluster from drifting (see assign).
   */
  anchor: Float32Array;
  size: number;
}
