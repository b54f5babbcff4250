import { ClusterState } from '../../../src/ports/cluster-state';
import {
  candidatesAfterDepartures,
  statesAfterDepartures,
} from '../../../src/pipeline/assign/departures';

const v = (...xs: number[]) => Float32Array.from(xs);
const state = (id: string, centroid: Float32Array, size: number): ClusterState => ({
  id,
  centroid,
  anchor: v(1, 0),
  size,
});

describe('statesAfterDepartures', () => {
  it('takes each leaving item out of its cluster mean', () => {
    // Members (1,0), (0,1), (1,1): mean (2/3, 2/3). Two leave.
    const c1 = state('c1', v(2 / 3, 2 / 3), 3);
    const after = statesAfterDepartures(
      new Map([
        ['a', 'c1'],
        ['b', 'c1'],
      ]),
      new Map([['c1', c1]]),
      new Map([
        ['a', v(1, 0)],
        ['b', v(0, 1)],
      ]),
    );

    const left = after.get('c1')!;
    expect(left.size).toBe(1);
    expect(left.centroid[0]).toBeCloseTo(1, 6);
    expect(left.centroid[1]).toBeCloseTo(1, 6);
  });

  it('empties a cluster whose last item leaves, and only lowers the size without the old vector', () => {
    const after = statesAfterDepartures(
      new Map([
        ['a', 'lonely'],
        ['b', 'big'],
      ]),
      new Map([
        ['lonely', state('lonely', v(1, 0), 1)],
        ['big', state('big', v(0.5, 0.5), 4)],
      ]),
      new Map(),
    );

    expect(after.get('lonely')).toMatchObject({ size: 0, centroid: v(0, 0) });
    expect(after.get('big')).toMatchObject({ size: 3, centroid: v(0.5, 0.5) });
  });

  it('leaves out clusters it has no state for (another embedding model)', () => {
    expect(statesAfterDepartures(new Map([['a', 'other']]), new Map(), new Map()).size).toBe(0);
  });
});

describe('candidatesAfterDepartures', () => {
  it('replaces shrunk clusters by their new state and drops emptied ones', () => {
    const keep = state('keep', v(1, 0), 2);
    const shrunk = state('shrunk', v(0, 1), 1);
    const after = new Map([
      ['shrunk', shrunk],
      ['gone', state('gone', v(0, 0), 0)],
    ]);

    const lists = candidatesAfterDepartures(
      [[keep, state('shrunk', v(0.5, 0.5), 2), state('gone', v(1, 0), 1)], []],
      after,
    );

    expect(lists).toEqual([[keep, shrunk], []]);
  });
});
