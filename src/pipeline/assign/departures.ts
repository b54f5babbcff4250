import { ClusterState } from '../../ports/cluster-state';
import { removeFromMean } from '../../sweep/move-plan';

/**
 * The states of clusters after updated items left them (CONTRACT §1 "Updates"). Pure.
 * `clusterOf` maps each leaving item to its cluster, `states` holds those clusters' current
 * state (a cluster missing there, e.g. of another embedding model, is left out), and
 * `oldVectors` the vectors the items were clustered with. A departure without its old vector
 * (or of another size) only lowers the size: the centroid cannot be corrected without it.
 * A cluster whose last item leaves comes back with size 0 and a zero centroid.
 */
export function statesAfterDepartures(
  clusterOf: ReadonlyMap<string, string>,
  states: ReadonlyMap<string, ClusterState>,
  oldVectors: ReadonlyMap<string, Float32Array>,
): Map<string, ClusterState> {
  const after = new Map<string, ClusterState>();
  for (const [itemId, clusterId] of clusterOf) {
    const state = after.get(clusterId) ?? states.get(clusterId);
    if (!state) continue;
    const vector = oldVectors.get(itemId);
    const centroid =
      state.size <= 1
        ? new Float32Array(state.centroid.length)
        : vector && vector.length === state.centroid.length
          ? removeFromMean(state.centroid, state.size, vector)
          : state.centroid;
    after.set(clusterId, { ...state, centroid, size: Math.max(0, state.size - 1) });
  }
  return after;
}

/**
 * Candidate lists with the clusters items leave in their state after the departures; an
 * emptied cluster is no candidate any more (it has no members to resemble).
 */
export function candidatesAfterDepartures(
  candidates: readonly ClusterState[][],
  after: ReadonlyMap<string, ClusterState>,
): ClusterState[][] {
  return candidates.map((list) =>
    list.flatMap((state) => {
      const changed = after.get(state.id);
      if (!changed) return [state];
      return changed.size > 0 ? [changed] : [];
    }),
  );
}
