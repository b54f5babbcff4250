import { Calibration } from '../../calibration/calibration';
import { ClusterState } from '../../clusters/cluster-state';
import { JoinRule, similarityToCluster } from './cluster-similarity';
import { dot, meanWith, norm } from './vector-math';

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
  /** Centroid and anchor on the calibrated scale; recomputed when the centroid changes. */
  centroidView: Float32Array;
  anchorView: Float32Array;
  /** Length of the centroid view, for the centroid rule; undefined until needed or after a change. */
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
        centroidView: calibration.view(state.centroid),
        anchorView: calibration.view(state.anchor),
        created: false,
        addedItemIds: [],
      };
      working.set(state.id, w);
    }
    return w;
  };

  items.forEach((item, i) => {
    const itemView = calibration.view(item.vector);
    const pool = new Map<string, WorkingCluster>();
    for (const c of candidates[i] ?? []) pool.set(c.id, workingFor(c));
    for (const w of createdInBatch) pool.set(w.state.id, w);

    let best: WorkingCluster | undefined;
    let bestSimilarity = -Infinity;
    for (const w of pool.values()) {
      // The centroid's length matters only to the centroid rule: computed once, when needed.
      if (rule === 'centroid') w.centroidNorm ??= norm(w.centroidView);
      const similarity = similarityToCluster(itemView, w.centroidView, rule, w.centroidNorm);
      if (
        similarity < joinBar(params.joinThreshold, penalty, w.state.size) ||
        similarity <= bestSimilarity
      )
        continue;
      if (dot(itemView, w.anchorView) < params.anchorThreshold) continue;
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
      best.centroidView = meanWith(best.centroidView, state.size, itemView);
      best.centroidNorm = undefined;
      best.addedItemIds.push(item.id);
      assignments.push({ itemId: item.id, clusterId: state.id, similarity: bestSimilarity });
      return;
    }

    const founded: WorkingCluster = {
      state: { id: newClusterId(), centroid: item.vector, anchor: item.vector, size: 1 },
      centroidView: itemView,
      anchorView: itemView,
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
