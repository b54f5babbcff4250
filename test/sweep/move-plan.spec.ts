import { Calibration } from '../../src/calibration/calibration';
import { ClusterState } from '../../src/ports/cluster-state';
import { cosine, normalize } from '../../src/math/vector-math';
import { planMoves, removeFromMean } from '../../src/sweep/move-plan';

const unit = (...xs: number[]) => normalize(Float32Array.from(xs));
const mean = (...vs: Float32Array[]) =>
  Float32Array.from(vs[0], (_, i) => vs.reduce((sum, v) => sum + v[i], 0) / vs.length);

const params = {
  joinThreshold: 0.5,
  anchorThreshold: 0.35,
  margin: 0.15,
  rule: 'centroid' as const,
};

describe('planMoves', () => {
  const p1 = unit(1, 0, 0);
  const p2 = unit(1, 0.1, 0);
  const stray = unit(0, 1, 0.05);
  const d1 = unit(0, 1, 0);
  const payments: ClusterState = {
    id: 'payments',
    centroid: mean(p1, p2, stray),
    anchor: p1,
    size: 3,
  };
  const dark: ClusterState = { id: 'dark', centroid: d1, anchor: d1, size: 1 };

  it('moves an item that fits another cluster far better than its own', () => {
    const moves = planMoves(
      [
        { id: 'p1', clusterId: 'payments', vector: p1 },
        { id: 'p2', clusterId: 'payments', vector: p2 },
        { id: 'stray', clusterId: 'payments', vector: stray },
      ],
      [payments, dark],
      params,
      Calibration.none,
    );
    expect(moves).toEqual([
      { itemId: 'stray', from: 'payments', to: 'dark', gain: expect.any(Number) },
    ]);
  });

  it('leaves items that are only slightly better elsewhere', () => {
    const moves = planMoves(
      [{ id: 'stray', clusterId: 'payments', vector: stray }],
      [payments, dark],
      {
        ...params,
        margin: 1.5,
      },
      Calibration.none,
    );
    expect(moves).toEqual([]);
  });

  it('never moves to a cluster the item could not have joined (anchor too far)', () => {
    const driftedDark: ClusterState = { ...dark, anchor: unit(0, 0, 1) };
    const moves = planMoves(
      [{ id: 'stray', clusterId: 'payments', vector: stray }],
      [payments, driftedDark],
      params,
      Calibration.none,
    );
    expect(moves).toEqual([]);
  });

  it('never empties a cluster', () => {
    const lonely: ClusterState = { id: 'lonely', centroid: stray, anchor: stray, size: 1 };
    expect(
      planMoves(
        [{ id: 'stray', clusterId: 'lonely', vector: stray }],
        [lonely, dark],
        params,
        Calibration.none,
      ),
    ).toEqual([]);
  });

  it('removeFromMean undoes adding a vector to a mean', () => {
    const without = removeFromMean(mean(p1, p2, stray), 3, stray);
    expect(cosine(without, mean(p1, p2))).toBeCloseTo(1, 6);
  });
});
