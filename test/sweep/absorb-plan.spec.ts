import { Calibration } from '../../src/calibration/calibration';
import { ClusterState } from '../../src/ports/cluster-state';
import { normalize } from '../../src/math/vector-math';
import { AbsorbParams, planAbsorptions, stillAbsorbable } from '../../src/sweep/absorb-plan';

/** A cluster of `size` items whose members are `direction` plus spread, with that centroid. */
const cluster = (id: string, direction: number[], size: number, cohesion = 0.8): ClusterState => {
  const unit = normalize(Float32Array.from(direction));
  // The mean of `size` unit vectors around `unit` with pairwise similarity `cohesion`.
  const length = size === 1 ? 1 : Math.sqrt((1 + (size - 1) * cohesion) / size);
  return { id, centroid: unit.map((x) => x * length), anchor: unit, size };
};
const params: AbsorbParams = { maxSize: 2, threshold: 0.3, growthPenalty: 0, anchorThreshold: 0 };

describe('planAbsorptions', () => {
  it('absorbs a singleton into the larger cluster it clearly resembles', () => {
    const big = cluster('big', [1, 0.1, 0], 20);
    const lonely = cluster('lonely', [1, 0.3, 0], 1);
    const pairs = planAbsorptions([big, lonely], params, Calibration.none);
    expect(pairs).toEqual([
      { survivorId: 'big', absorbedId: 'lonely', similarity: expect.any(Number) },
    ]);
  });

  it('leaves alone a small cluster nearer the background than any cluster', () => {
    const big = cluster('big', [1, 0, 0], 20);
    const elsewhere = cluster('elsewhere', [0.2, 1, 0], 2);
    expect(planAbsorptions([big, elsewhere], params, Calibration.none)).toEqual([]);
  });

  it('never absorbs into a cluster that is not larger, nor absorbs clusters above maxSize', () => {
    const a = cluster('a', [1, 0, 0], 1);
    const b = cluster('b', [1, 0.05, 0], 1);
    expect(planAbsorptions([a, b], params, Calibration.none)).toEqual([]);
    const three = cluster('three', [1, 0.05, 0], 3);
    const big = cluster('big', [1, 0, 0], 30);
    expect(planAbsorptions([big, three], params, Calibration.none)).toEqual([]);
  });

  it('picks the most similar target, and lets a target take several small clusters', () => {
    const payments = cluster('payments', [1, 0, 0], 10);
    const refunds = cluster('refunds', [0, 1, 0], 10);
    const smalls = [
      cluster('s1', [1, 0.2, 0], 1),
      cluster('s2', [1, 0.1, 0.1], 2),
      cluster('s3', [0.1, 1, 0], 1),
    ];
    const pairs = planAbsorptions([payments, refunds, ...smalls], params, Calibration.none);
    expect(Object.fromEntries(pairs.map((p) => [p.absorbedId, p.survivorId]))).toEqual({
      s1: 'payments',
      s2: 'payments',
      s3: 'refunds',
    });
  });

  it('raises the bar with the target size, so large clusters take only clear matches', () => {
    const huge = cluster('huge', [1, 0, 0], 2000, 0.6);
    const borderline = cluster('borderline', [1, 0.75, 0], 1);
    expect(planAbsorptions([huge, borderline], params, Calibration.none)).toHaveLength(1);
    expect(
      planAbsorptions([huge, borderline], { ...params, growthPenalty: 0.1 }, Calibration.none),
    ).toEqual([]);
  });

  it('stillAbsorbable re-checks a planned pair on fresh state', () => {
    const big = cluster('big', [1, 0.1, 0], 20);
    const lonely = cluster('lonely', [1, 0.3, 0], 1);
    expect(stillAbsorbable(big, lonely, params, Calibration.none)).toBe(true);
    expect(stillAbsorbable(big, { ...lonely, size: 3 }, params, Calibration.none)).toBe(false);
    expect(stillAbsorbable(lonely, big, params, Calibration.none)).toBe(false);
  });
});
