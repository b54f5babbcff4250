import { clusteringParams } from '../../src/config/clustering-params';
import { loadEnvironment } from '../../src/config/environment';

describe('clusteringParams: the clustering thresholds, read from the environment in one place', () => {
  it('hands every variable to the decisions that use it', () => {
    // Distinct values, so a variable given to the wrong decision (or field) shows.
    const env = loadEnvironment({
      JOIN_THRESHOLD: '0.41',
      ANCHOR_THRESHOLD: '0.12',
      JOIN_RULE: 'centroid',
      JOIN_GROWTH_PENALTY: '0.07',
      CANDIDATES_K: '17',
      MERGE_THRESHOLD: '0.33',
      MOVE_MARGIN: '0.19',
      ABSORB_THRESHOLD: '0.23',
      ABSORB_MAX_SIZE: '3',
    });
    expect(clusteringParams(env)).toEqual({
      assign: {
        joinThreshold: 0.41,
        anchorThreshold: 0.12,
        joinOn: 'centroid',
        growthPenalty: 0.07,
        candidatesK: 17,
      },
      merge: { threshold: 0.33, anchorThreshold: 0.12, rule: 'centroid' },
      move: { joinThreshold: 0.41, anchorThreshold: 0.12, margin: 0.19, rule: 'centroid' },
      absorb: { maxSize: 3, threshold: 0.23, growthPenalty: 0.07, anchorThreshold: 0.12 },
    });
  });

  it('gives the service defaults when nothing is set', () => {
    const { assign, merge, move, absorb } = clusteringParams(loadEnvironment({}));
    expect(assign).toEqual({
      joinThreshold: 0.22,
      anchorThreshold: 0.1,
      joinOn: 'members',
      growthPenalty: 0.06,
      candidatesK: 30,
    });
    // The sweep judges with the same rule and anchor bound as the pipeline's joins.
    expect([merge.rule, move.rule]).toEqual(['members', 'members']);
    expect([merge.anchorThreshold, move.anchorThreshold, absorb.anchorThreshold]).toEqual([
      0.1, 0.1, 0.1,
    ]);
    expect(move.joinThreshold).toBe(assign.joinThreshold);
    expect(absorb.growthPenalty).toBe(assign.growthPenalty);
  });
});
