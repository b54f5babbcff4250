import type { AssignParams } from '../pipeline/assign/assign-batch';
import type { AbsorbParams } from '../sweep/absorb-plan';
import type { MergeParams } from '../sweep/merge-plan';
import type { MoveParams } from '../sweep/move-plan';
import type { Environment } from './environment';

/** The variables the clustering decisions read (see `Environment` for each one's meaning). */
export type ClusteringEnvironment = Pick<
  Environment,
  | 'JOIN_THRESHOLD'
  | 'ANCHOR_THRESHOLD'
  | 'JOIN_RULE'
  | 'JOIN_GROWTH_PENALTY'
  | 'CANDIDATES_K'
  | 'MERGE_THRESHOLD'
  | 'MOVE_MARGIN'
  | 'ABSORB_THRESHOLD'
  | 'ABSORB_MAX_SIZE'
>;

/**
 * Every threshold of the clustering decisions, on the calibrated scale (see `Calibration`).
 * The sweep's moves, merges and absorptions share the assignment's anchor bound, join rule and
 * growth penalty, so that no sweep undoes what the pipeline would decide.
 */
export interface ClusteringParams {
  /** The pipeline's join-or-found decision, over the `candidatesK` nearest clusters. */
  assign: Required<AssignParams> & { candidatesK: number };
  /** The sweep's merges of near-duplicate clusters. */
  merge: MergeParams;
  /** The sweep's moves of items to a cluster that fits them clearly better. */
  move: MoveParams;
  /** The sweep's absorption of small clusters (maxSize 0: none) into a larger neighbour. */
  absorb: AbsorbParams;
}

/** The one place the clustering thresholds are read from the environment. */
export function clusteringParams(env: ClusteringEnvironment): ClusteringParams {
  return {
    assign: {
      joinThreshold: env.JOIN_THRESHOLD,
      anchorThreshold: env.ANCHOR_THRESHOLD,
      joinOn: env.JOIN_RULE,
      growthPenalty: env.JOIN_GROWTH_PENALTY,
      candidatesK: env.CANDIDATES_K,
    },
    merge: {
      threshold: env.MERGE_THRESHOLD,
      anchorThreshold: env.ANCHOR_THRESHOLD,
      rule: env.JOIN_RULE,
    },
    move: {
      joinThreshold: env.JOIN_THRESHOLD,
      anchorThreshold: env.ANCHOR_THRESHOLD,
      margin: env.MOVE_MARGIN,
      rule: env.JOIN_RULE,
    },
    absorb: {
      maxSize: env.ABSORB_MAX_SIZE,
      threshold: env.ABSORB_THRESHOLD,
      growthPenalty: env.JOIN_GROWTH_PENALTY,
      anchorThreshold: env.ANCHOR_THRESHOLD,
    },
  };
}
