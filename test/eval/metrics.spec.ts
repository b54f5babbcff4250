import { ari, bcubed, nmi } from '../../src/eval/metrics';

describe('clustering metrics', () => {
  const gold = ['a', 'a', 'a', 'b', 'b', 'b'];
  // Splits class a, mixes one item of each class, keeps two of b together.
  const predicted = [0, 0, 1, 1, 2, 2];

  it('score identical partitions 1 whatever the cluster names', () => {
    const renamed = ['x', 'x', 'x', 'y', 'y', 'y'];
    expect(nmi(gold, renamed)).toBeCloseTo(1, 12);
    expect(ari(gold, renamed)).toBeCloseTo(1, 12);
    expect(bcubed(gold, renamed)).toEqual({ precision: 1, recall: 1, f1: 1 });
  });

  it('match scikit-learn on a small example', () => {
    // adjusted_rand_score / normalized_mutual_info_score of the same arrays.
    expect(ari(gold, predicted)).toBeCloseTo(0.242424242424, 10);
    expect(nmi(gold, predicted)).toBeCloseTo(0.515803742979, 10);
  });

  it('give B-cubed precision and recall item by item', () => {
    // Precision: 4 items in pure pairs, 2 in the mixed pair (1/2 each) -> 5/6.
    // Recall: a,b,e,f keep 2 of 3 class-mates, c,d keep 1 of 3 -> 5/9.
    const { precision, recall, f1 } = bcubed(gold, predicted);
    expect(precision).toBeCloseTo(5 / 6, 12);
    expect(recall).toBeCloseTo(5 / 9, 12);
    expect(f1).toBeCloseTo(2 / 3, 12);
  });

  it('score all-singletons low on ARI and NMI but perfect on B-cubed precision', () => {
    const singletons = [1, 2, 3, 4, 5, 6];
    expect(ari(gold, singletons)).toBeCloseTo(0, 12);
    expect(nmi(gold, singletons)).toBeLessThan(0.6);
    expect(bcubed(gold, singletons).precision).toBe(1);
    expect(bcubed(gold, singletons).recall).toBeCloseTo(1 / 3, 12);
  });

  it('score a split across the classes below zero ARI', () => {
    expect(ari(['a', 'a', 'b', 'b'], [1, 2, 1, 2])).toBeLessThan(0);
  });

  it('reject arrays of different lengths', () => {
    expect(() => nmi(['a'], [1, 2])).toThrow(/differ in length/);
  });
});
