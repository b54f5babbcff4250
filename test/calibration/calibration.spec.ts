import { Calibration } from '../../src/calibration/calibration';
import { ClusterState } from '../../src/ports/cluster-state';
import { AssignParams, assignBatch } from '../../src/pipeline/assign/assign-batch';
import { dot, normalize } from '../../src/math/vector-math';
import { planMerges } from '../../src/sweep/merge-plan';
import { planMoves } from '../../src/sweep/move-plan';
import { randomUnitVector, seededRandom } from '../../scripts/lib/bench-support';

const DIMENSIONS = 64;
/** The texts' own directions live in the first dimensions; the common offset in the last. */
const OFFSET = (() => {
  const o = new Float32Array(DIMENSIONS);
  o[DIMENSIONS - 1] = 1;
  return o;
})();

/** `topics` noisy groups of unit vectors, in a seeded arrival order; the last dimension is 0. */
function topicVectors(topics: number, perTopic: number, seed: number) {
  const random = seededRandom(seed);
  const centres = Array.from({ length: topics }, () => randomUnitVector(DIMENSIONS - 1, random));
  const items: Array<{ id: string; topic: number; vector: Float32Array }> = [];
  for (let t = 0; t < topics; t++) {
    for (let i = 0; i < perTopic; i++) {
      const noise = randomUnitVector(DIMENSIONS - 1, random);
      const v = new Float32Array(DIMENSIONS);
      for (let d = 0; d < DIMENSIONS - 1; d++) v[d] = centres[t][d] + 0.9 * noise[d];
      items.push({ id: `t${t}-${i}`, topic: t, vector: normalize(v) });
    }
  }
  // Fisher-Yates with the same generator: a fixed, mixed arrival order.
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Each vector moved along the common offset so that unrelated pairs meet at `background`. */
function shifted(vector: Float32Array, background: number): Float32Array {
  const weight = Math.sqrt(background / (1 - background));
  const out = Float32Array.from(vector);
  for (let d = 0; d < DIMENSIONS; d++) out[d] += weight * OFFSET[d];
  return normalize(out);
}

/** Replays items in batches through assignBatch as the service does; item id -> cluster id. */
function cluster(items: ReadonlyArray<{ id: string; vector: Float32Array }>, params: AssignParams) {
  const clusters = new Map<string, ClusterState>();
  const assigned = new Map<string, string>();
  let calibration = Calibration.none;
  let next = 0;
  for (let start = 0; start < items.length; start += 25) {
    const batch = items.slice(start, start + 25);
    calibration = calibration.withItems(batch.map((i) => i.vector));
    const all = [...clusters.values()];
    const plan = assignBatch(
      batch,
      batch.map(() => all),
      params,
      calibration,
      () => `c${next++}`,
    );
    for (const change of plan.changes) clusters.set(change.state.id, change.state);
    for (const a of plan.assignments) assigned.set(a.itemId, a.clusterId);
  }
  return { assigned, clusters: [...clusters.values()], calibration };
}

const PARAMS: AssignParams = {
  joinThreshold: 0.2,
  anchorThreshold: 0.1,
  joinOn: 'members',
  growthPenalty: 0.01,
};

describe('Calibration', () => {
  const items = topicVectors(6, 30, 11);

  it('learns the background: the mean cosine of two unrelated items', () => {
    for (const background of [0, 0.6, 0.8]) {
      const vectors = items.map((i) => shifted(i.vector, background));
      const learnt = Calibration.none.withItems(vectors);
      let sum = 0;
      let pairs = 0;
      for (let a = 0; a < vectors.length; a += 7)
        for (let b = a + 1; b < vectors.length; b += 5, pairs++) sum += dot(vectors[a], vectors[b]);
      expect(learnt.background).toBeCloseTo(sum / pairs, 1);
      expect(learnt.count).toBe(vectors.length);
    }
  });

  it('gives the same calibrated similarities when every vector moves along a common direction', () => {
    const plain = items.map((i) => i.vector);
    const base = Calibration.none.withItems(plain);
    for (const background of [0.6, 0.8]) {
      const moved = plain.map((v) => shifted(v, background));
      const calibration = Calibration.none.withItems(moved);
      for (const [a, b] of [
        [0, 1],
        [2, 50],
        [7, 150],
      ]) {
        expect(dot(calibration.view(moved[a]), calibration.view(moved[b]))).toBeCloseTo(
          dot(base.view(plain[a]), base.view(plain[b])),
          4,
        );
      }
    }
  });

  it('assigns the same clusters at backgrounds 0, 0.6 and 0.8 (shifted and re-normalised)', () => {
    const reference = cluster(items, PARAMS).assigned;
    for (const background of [0.6, 0.8]) {
      const moved = items.map((i) => ({ id: i.id, vector: shifted(i.vector, background) }));
      expect(cluster(moved, PARAMS).assigned).toEqual(reference);
    }
    // And the clusters are the topics: raw cosine thresholds would have collapsed at 0.8.
    const topics = new Map<string, Set<number>>();
    for (const item of items) {
      const id = reference.get(item.id) ?? '';
      topics.set(id, (topics.get(id) ?? new Set()).add(item.topic));
    }
    expect([...topics.values()].every((t) => t.size === 1)).toBe(true);
  });

  it('plans the same merges and moves on shifted vectors', () => {
    const plain = cluster(items, { ...PARAMS, joinThreshold: 0.5 });
    const moved = cluster(
      items.map((i) => ({ id: i.id, vector: shifted(i.vector, 0.8) })),
      { ...PARAMS, joinThreshold: 0.5 },
    );
    const mergeParams = { threshold: 0.2, anchorThreshold: 0, rule: 'members' as const };
    const merges = planMerges(plain.clusters, mergeParams, plain.calibration);
    expect(merges.length).toBeGreaterThan(0);
    expect(planMerges(moved.clusters, mergeParams, moved.calibration)).toEqual(
      merges.map((m) => ({ ...m, similarity: expect.closeTo(m.similarity, 4) })),
    );

    const placed = (run: typeof plain, vectorOf: (v: Float32Array) => Float32Array) =>
      items.map((i) => ({
        id: i.id,
        clusterId: run.assigned.get(i.id) ?? '',
        vector: vectorOf(i.vector),
      }));
    const moveParams = {
      joinThreshold: 0.2,
      anchorThreshold: 0,
      margin: 0.05,
      rule: 'members' as const,
    };
    const moves = planMoves(
      placed(plain, (v) => v),
      plain.clusters,
      moveParams,
      plain.calibration,
    );
    expect(
      planMoves(
        placed(moved, (v) => shifted(v, 0.8)),
        moved.clusters,
        moveParams,
        moved.calibration,
      ).map((m) => m.itemId),
    ).toEqual(moves.map((m) => m.itemId));
  });

  it('views a mean as the mean of the views, so raw centroids stay comparable', () => {
    const calibration = Calibration.none.withItems(items.map((i) => i.vector));
    const [a, b] = [items[0].vector, items[1].vector];
    const mean = a.map((x, d) => (x + b[d]) / 2);
    const meanOfViews = calibration.view(a).map((x, d) => (x + calibration.view(b)[d]) / 2);
    calibration.view(mean).forEach((x, d) => expect(x).toBeCloseTo(meanOfViews[d], 6));
  });

  it('without items, leaves vectors as they are', () => {
    expect(Calibration.none.view(items[0].vector)).toBe(items[0].vector);
    expect(Calibration.none.background).toBe(0);
  });
});
