import { Calibration } from '../../calibration/calibration';
import { ClusterState } from '../../ports/cluster-state';
import { JoinRule } from './cluster-similarity';
import { dot, meanWith } from '../../math/vector-math';

/** Every threshold is on the calibrated scale (see `Calibration`): 0 = unrelated, 1 = identical. */
export interface AssignParams {
  /** Minimum calibrated similarity between an item and a cluster (see `joinOn`) to join it. */
  joinThreshold: number;
  /**
   * Minimum calibrated similarity between an item and the cluster's anchor (founding vector).
   * Centroid-only assignment lets a cluster creep, one borderline item at a time, into a
   * catch-all; the anchor bounds how far from its origin a cluster can reach.
   */
  anchorThreshold: number;
  /**
   * How much the bar to join rises as a cluster grows: `joinThreshold + growthPenalty *
   * ln(1 + size / 20)`. A large cluster then takes only items that clearly belong, instead of
   * every borderline one (0 when absent).
   */
  growthPenalty?: number;
  /** What `joinThreshold` is compared with (see `JoinRule`); `centroid` when absent. */
  joinOn?: JoinRule;
}

export interface ItemToAssign {
  id: string;
  /** Unit length. */
  vector: Float32Array;
}

export interface ClusterChange {
  state: ClusterState;
  created: boolean;
  addedItemIds: string[];
}

export interface AssignmentPlan {
  /** item id -> cluster id, in input order. */
  assignments: Array<{ itemId: string; clusterId: string; similarity: number }>;
  /** Every cluster the batch created or grew, with its new state. */
  changes: ClusterChange[];
}

/** The size at which the growth penalty reaches `ln 2` times its weight. */
const GROWTH_PENALTY_SCALE = 20;

interface WorkingCluster {
  /** Raw state, as persisted. */
  state: ClusterState;
  /** `centroid·mean` (see `Calibration.along`), kept as the centroid moves. */
  centroidAlong: number;
  /** `anchor·mean`; computed when first needed (most candidates fail the join bar first). */
  anchorAlong?: number;
  /** Length of the centroid's view, for the centroid rule; undefined until needed or after a change. */
  centroidNorm?: number;
  created: boolean;
  addedItemIds: string[];
}

/** The bar to join a cluster of `size`: `threshold + penalty * ln(1 + size / 20)`. */
export function joinBar(threshold: number, penalty: number, size: number): number {
  return threshold + penalty * Math.log(1 + size / GROWTH_PENALTY_SCALE);
}

/**
 * Assigns a batch of items, in order, to the nearest existing cluster or to new ones.
 * Pure: `candidates[i]` are the index's nearest clusters for item i (state as of the batch
 * start); clusters created or grown earlier in the batch are seen by later items, so items
 * of one batch can found a cluster together. Decisions are taken on `calibration`'s scale;
 * the plan's states are raw.
 */
export function assignBatch(
  items: readonly ItemToAssign[],
  candidates: readonly ClusterState[][],
  params: AssignParams,
  calibration: Calibration,
  newClusterId: () => string,
): AssignmentPlan {
  const working = new Map<string, WorkingCluster>();
  const createdInBatch: WorkingCluster[] = [];
  const assignments: AssignmentPlan['assignments'] = [];
  const rule = params.joinOn ?? 'centroid';
  const penalty = params.growthPenalty ?? 0;

  const workingFor = (state: ClusterState): WorkingCluster => {
    let w = working.get(state.id);
    if (!w) {
      w = {
        state,
        centroidAlong: calibration.along(state.centroid),
        created: false,
        addedItemIds: [],
      };
      working.set(state.id, w);
    }
    return w;
  };

  // Calibrated similarities from raw dot products (`Calibration.similarity`): no view vectors
  // are built; a candidate costs its dot product plus, once per batch, its `along`.
  const toCluster = (x: Float32Array, xAlong: number, w: WorkingCluster): number => {
    const { centroid } = w.state;
    const members = calibration.similarity(dot(x, centroid), xAlong, w.centroidAlong);
    if (rule === 'members') return members;
    w.centroidNorm ??= Math.sqrt(
      Math.max(
        calibration.similarity(dot(centroid, centroid), w.centroidAlong, w.centroidAlong),
        0,
      ),
    );
    return w.centroidNorm === 0 ? 0 : members / w.centroidNorm;
  };

  items.forEach((item, i) => {
    const itemAlong = calibration.along(item.vector);
    const pool = new Map<string, WorkingCluster>();
    for (const c of candidates[i] ?? []) pool.set(c.id, workingFor(c));
    for (const w of createdInBatch) pool.set(w.state.id, w);

    let best: WorkingCluster | undefined;
    let bestSimilarity = -Infinity;
    for (const w of pool.values()) {
      const similarity = toCluster(item.vector, itemAlong, w);
      if (
        similarity < joinBar(params.joinThreshold, penalty, w.state.size) ||
        similarity <= bestSimilarity
      )
        continue;
      const toAnchor = calibration.similarity(
        dot(item.vector, w.state.anchor),
        itemAlong,
        (w.anchorAlong ??= calibration.along(w.state.anchor)),
      );
      if (toAnchor < params.anchorThreshold) continue;
      best = w;
      bestSimilarity = similarity;
    }

    if (best) {
      const { state } = best;
      best.state = {
        ...state,
        centroid: meanWith(state.centroid, state.size, item.vector),
        size: state.size + 1,
      };
      best.centroidAlong = (best.centroidAlong * state.size + itemAlong) / (state.size + 1);
      best.centroidNorm = undefined;
      best.addedItemIds.push(item.id);
      assignments.push({ itemId: item.id, clusterId: state.id, similarity: bestSimilarity });
      return;
    }

    const founded: WorkingCluster = {
      state: { id: newClusterId(), centroid: item.vector, anchor: item.vector, size: 1 },
      centroidAlong: itemAlong,
      anchorAlong: itemAlong,
      created: true,
      addedItemIds: [item.id],
    };
    working.set(founded.state.id, founded);
    createdInBatch.push(founded);
    assignments.push({ itemId: item.id, clusterId: founded.state.id, similarity: 1 });
  });

  const changes = [...working.values()]
    .filter((w) => w.addedItemIds.length > 0)
    .map((w) => ({ state: w.state, created: w.created, addedItemIds: w.addedItemIds }));
  return { assignments, changes };
}
