import { Calibration } from '../../../src/calibration/calibration';
import { ClusterState } from '../../../src/ports/cluster-state';
import { AssignParams, assignBatch } from '../../../src/pipeline/assign/assign-batch';
import { normalize } from '../../../src/math/vector-math';

/** A unit vector at `degrees` in the plane. */
const at = (degrees: number): Float32Array => {
  const r = (degrees * Math.PI) / 180;
  return Float32Array.from([Math.cos(r), Math.sin(r)]);
};
const cluster = (id: string, vector: Float32Array, size = 1): ClusterState => ({
  id,
  centroid: vector,
  anchor: vector,
  size,
});
const ids = (): (() => string) => {
  let next = 0;
  return () => `new-${next++}`;
};
const params: AssignParams = { joinThreshold: 0.9, anchorThreshold: 0.5 };

describe('assignBatch', () => {
  it('joins the most similar cluster among those above the threshold', () => {
    const near = cluster('near', at(10));
    const nearer = cluster('nearer', at(3));
    const plan = assignBatch(
      [{ id: 'i', vector: at(0) }],
      [[near, nearer]],
      params,
      Calibration.none,
      ids(),
    );
    expect(plan.assignments).toEqual([
      {
        itemId: 'i',
        clusterId: 'nearer',
        similarity: expect.closeTo(Math.cos((3 * Math.PI) / 180)),
      },
    ]);
    expect(plan.changes).toEqual([
      expect.objectContaining({ created: false, addedItemIds: ['i'] }),
    ]);
    expect(plan.changes[0].state).toMatchObject({ id: 'nearer', size: 2 });
  });

  it('founds a new cluster when no candidate reaches the threshold', () => {
    const plan = assignBatch(
      [{ id: 'i', vector: at(0) }],
      [[cluster('far', at(60))]],
      params,
      Calibration.none,
      ids(),
    );
    expect(plan.assignments[0]).toEqual({ itemId: 'i', clusterId: 'new-0', similarity: 1 });
    expect(plan.changes).toEqual([
      {
        state: { id: 'new-0', centroid: at(0), anchor: at(0), size: 1 },
        created: true,
        addedItemIds: ['i'],
      },
    ]);
  });

  it('lets items of one batch found a cluster together', () => {
    const items = [
      { id: 'a', vector: at(0) },
      { id: 'b', vector: at(5) },
      { id: 'c', vector: at(90) },
    ];
    const plan = assignBatch(items, [[], [], []], params, Calibration.none, ids());
    expect(plan.assignments.map((a) => a.clusterId)).toEqual(['new-0', 'new-0', 'new-1']);
    const founded = plan.changes.find((c) => c.state.id === 'new-0');
    expect(founded).toMatchObject({ created: true, addedItemIds: ['a', 'b'] });
    expect(founded?.state.size).toBe(2);
  });

  it('keeps the centroid the mean of the members and the anchor the founding vector', () => {
    const start = cluster('c', at(0));
    const items = [
      { id: 'x', vector: at(10) },
      { id: 'y', vector: at(-10) },
    ];
    const plan = assignBatch(items, [[start], [start]], params, Calibration.none, ids());
    const { state } = plan.changes[0];
    expect(state.size).toBe(3);
    const mean = [0, 10, -10]
      .map(at)
      .reduce((sum, v) => sum.map((s, i) => s + v[i] / 3), new Float32Array(2));
    state.centroid.forEach((x, i) => expect(x).toBeCloseTo(mean[i], 6));
    expect(state.anchor).toBe(start.anchor);
  });

  it('stops a cluster creeping, item by item, round to the opposite side of its origin', () => {
    // Items walk round a cone 40 degrees about the z axis, 20 degrees of azimuth at a time:
    // each is close to the centroid, which creeps along behind them.
    const onCone = (azimuth: number): Float32Array => {
      const a = (azimuth * Math.PI) / 180;
      const polar = (40 * Math.PI) / 180;
      return Float32Array.from([
        Math.sin(polar) * Math.cos(a),
        Math.sin(polar) * Math.sin(a),
        Math.cos(polar),
      ]);
    };
    const walk = Array.from({ length: 18 }, (_, i) => ({
      id: `az${i * 20}`,
      vector: onCone(i * 20),
    }));
    const none = walk.map(() => []);
    const clusterOf = (p: AssignParams): Map<string, string> =>
      new Map(
        assignBatch(walk, none, p, Calibration.none, ids()).assignments.map((a) => [
          a.itemId,
          a.clusterId,
        ]),
      );

    const unguarded = clusterOf({ joinThreshold: 0.6, anchorThreshold: -1 });
    expect(unguarded.get('az180')).toBe(unguarded.get('az0'));

    const guarded = clusterOf({ joinThreshold: 0.6, anchorThreshold: 0.5 });
    expect(guarded.get('az180')).not.toBe(guarded.get('az0'));
    expect(guarded.get('az20')).toBe(guarded.get('az0'));
  });

  describe("joinOn: 'members'", () => {
    // A loose cluster: members at +-60 degrees, so its centroid points at 0 but is short.
    const loose: ClusterState = {
      id: 'loose',
      centroid: normalize(at(0)).map((x) => x * Math.cos(Math.PI / 3)),
      anchor: at(0),
      size: 2,
    };
    const item = { id: 'i', vector: at(0) };

    it('judges the mean similarity to the members, so a loose cluster does not absorb', () => {
      const byCentroid = assignBatch(
        [item],
        [[loose]],
        { ...params, joinOn: 'centroid' },
        Calibration.none,
        ids(),
      );
      expect(byCentroid.assignments[0].clusterId).toBe('loose');

      const byMembers = assignBatch(
        [item],
        [[loose]],
        { ...params, joinOn: 'members' },
        Calibration.none,
        ids(),
      );
      expect(byMembers.assignments[0].clusterId).toBe('new-0');
    });

    it('still joins a tight cluster, reporting the mean similarity', () => {
      const tight = cluster('tight', at(5), 4);
      const plan = assignBatch(
        [item],
        [[tight]],
        { ...params, joinOn: 'members' },
        Calibration.none,
        ids(),
      );
      expect(plan.assignments[0]).toEqual({
        itemId: 'i',
        clusterId: 'tight',
        similarity: expect.closeTo(Math.cos((5 * Math.PI) / 180)),
      });
    });
  });

  it('is deterministic', () => {
    const items = [0, 30, 4, 33, 90].map((deg, i) => ({ id: `i${i}`, vector: at(deg) }));
    const run = () =>
      assignBatch(
        items,
        items.map(() => []),
        params,
        Calibration.none,
        ids(),
      );
    expect(run()).toEqual(run());
  });
});

describe('assignBatch growth penalty', () => {
  it('asks more of an item joining a large cluster than a small one', () => {
    const direction = Float32Array.from([1, 0]);
    const big = { id: 'big', centroid: Float32Array.from([0.6, 0]), anchor: direction, size: 400 };
    const small = {
      id: 'small',
      centroid: Float32Array.from([0.6, 0]),
      anchor: direction,
      size: 2,
    };
    const item = { id: 'i', vector: Float32Array.from([1, 0]) };
    const params = { joinThreshold: 0.55, anchorThreshold: 0, joinOn: 'members' as const };
    const newId = () => 'new';
    // Similarity 0.6 to either: enough for both without the penalty...
    expect(
      assignBatch([item], [[big]], params, Calibration.none, newId).assignments[0].clusterId,
    ).toBe('big');
    // ...with it, the bar for 400 members is 0.55 + 0.02 * ln(21) ≈ 0.61, for 2 about 0.552.
    const penalised = { ...params, growthPenalty: 0.02 };
    expect(
      assignBatch([item], [[big]], penalised, Calibration.none, newId).assignments[0].clusterId,
    ).toBe('new');
    expect(
      assignBatch([item], [[small]], penalised, Calibration.none, newId).assignments[0].clusterId,
    ).toBe('small');
  });
});
