import { Calibration } from '../../src/calibration/calibration';
import { ClusterState } from '../../src/ports/cluster-state';
import { cohesion, planMerges } from '../../src/sweep/merge-plan';

function cluster(id: string, direction: number[], size: number): ClusterState {
  const v = Float32Array.from(direction);
  return { id, centroid: v, anchor: v, size };
}

const params = { threshold: 0.9, anchorThreshold: 0.35, rule: 'centroid' as const };

describe('planMerges', () => {
  it('pairs near-duplicates above the threshold, the larger cluster surviving', () => {
    const pairs = planMerges(
      [cluster('a', [1, 0, 0], 2), cluster('b', [0.99, 0.1, 0], 5), cluster('c', [0, 1, 0], 9)],
      params,
      Calibration.none,
    );
    expect(pairs).toEqual([{ survivorId: 'b', absorbedId: 'a', similarity: expect.any(Number) }]);
    expect(pairs[0].similarity).toBeGreaterThan(0.99);
  });

  it('ignores the scale of centroids (means of unit vectors are shorter than one)', () => {
    const pairs = planMerges(
      [cluster('a', [0.5, 0, 0], 3), cluster('b', [0.9, 0.05, 0], 1)],
      params,
      Calibration.none,
    );
    expect(pairs).toEqual([expect.objectContaining({ survivorId: 'a', absorbedId: 'b' })]);
  });

  it('is greedy: most similar pair first, each cluster in at most one merge per plan', () => {
    // b is near both a and c; a-b is the closer pair, so c waits for the next sweep.
    const pairs = planMerges(
      [cluster('a', [1, 0, 0], 1), cluster('b', [1, 0.05, 0], 1), cluster('c', [1, 0.2, 0], 1)],
      params,
      Calibration.none,
    );
    expect(pairs.map((p) => [p.survivorId, p.absorbedId])).toEqual([['a', 'b']]);
  });

  it('breaks size ties by id, whatever the input order', () => {
    const x = cluster('x', [1, 0, 0], 4);
    const y = cluster('y', [1, 0.01, 0], 4);
    expect(planMerges([x, y], params, Calibration.none)[0].survivorId).toBe('x');
    expect(planMerges([y, x], params, Calibration.none)[0].survivorId).toBe('x');
  });

  it('keeps apart clusters whose anchors are far apart, however close the centroids', () => {
    const drifted: ClusterState = {
      id: 'drifted',
      centroid: Float32Array.from([1, 0, 0]),
      anchor: Float32Array.from([0, 0, 1]),
      size: 3,
    };
    expect(planMerges([drifted, cluster('a', [1, 0, 0], 3)], params, Calibration.none)).toEqual([]);
  });

  it('considers only pairs with a changed cluster when told which changed', () => {
    const clusters = [cluster('a', [1, 0, 0], 1), cluster('b', [1, 0.01, 0], 1)];
    expect(planMerges(clusters, params, Calibration.none, new Set(['other']))).toEqual([]);
    expect(planMerges(clusters, params, Calibration.none, new Set(['b']))).toHaveLength(1);
  });
});

describe('planMerges under the members rule', () => {
  it('keeps two loose clusters apart that cosine of centroids would merge', () => {
    // Two wide clusters whose centroids point the same way but whose members differ a lot:
    // cosine of the centroids is 1, the mean similarity across members is only 0.25.
    const loose = (id: string) => ({
      id,
      centroid: Float32Array.from([0.5, 0, 0]),
      anchor: Float32Array.from([1, 0, 0]),
      size: 10,
    });
    const clusters = [loose('a'), loose('b')];
    const base = { threshold: 0.5, anchorThreshold: 0 };
    expect(planMerges(clusters, { ...base, rule: 'centroid' }, Calibration.none)).toHaveLength(1);
    expect(planMerges(clusters, { ...base, rule: 'members' }, Calibration.none)).toEqual([]);
  });
});

describe('planMerges: only near-duplicates merge under the members rule', () => {
  // Clusters of 10 unit vectors around a direction: the centroid is the direction scaled by
  // the mean similarity to it, and the cohesion follows from the centroid's length.
  const cluster = (id: string, direction: number[], spread: number) => ({
    id,
    centroid: Float32Array.from(direction.map((x) => x * spread)),
    anchor: Float32Array.from(direction),
    size: 10,
  });

  it('merges two fragments of one topic', () => {
    const a = cluster('a', [1, 0, 0], 0.8);
    const b = cluster('b', [0.99, 0.141, 0], 0.8);
    const pairs = planMerges(
      [a, b],
      { threshold: 0.5, anchorThreshold: 0, rule: 'members' },
      Calibration.none,
    );
    expect(pairs).toHaveLength(1);
    expect(cohesion(a.centroid, a.size)).toBeCloseTo((10 * 0.64 - 1) / 9, 5);
  });

  it('keeps apart two tight clusters of neighbouring topics that are alike, but less than within', () => {
    // Within each: about 0.9; across: 0.9 * 0.9 * cos(45°) ≈ 0.57, above the threshold.
    const a = cluster('a', [1, 0, 0], 0.9);
    const b = cluster('b', [0.7071, 0.7071, 0], 0.9);
    const across = 0.81 * 0.7071;
    expect(across).toBeGreaterThan(0.5);
    expect(
      planMerges([a, b], { threshold: 0.5, anchorThreshold: 0, rule: 'members' }, Calibration.none),
    ).toEqual([]);
    // Under the centroid rule only the threshold counts: cosine 0.71 clears 0.7, so they merge.
    expect(
      planMerges(
        [a, b],
        { threshold: 0.7, anchorThreshold: 0, rule: 'centroid' },
        Calibration.none,
      ),
    ).toHaveLength(1);
  });
});
