/**
 * External clustering metrics: compare a predicted partition with gold labels.
 * Both arrays give, item by item, the label (or cluster id) of the same items.
 */

type Label = string | number;

interface Contingency {
  /** Count of items per (gold, predicted) pair. */
  cells: Map<Label, Map<Label, number>>;
  goldSizes: Map<Label, number>;
  predictedSizes: Map<Label, number>;
  total: number;
}

function contingency(gold: readonly Label[], predicted: readonly Label[]): Contingency {
  if (gold.length !== predicted.length) {
    throw new Error(`label arrays differ in length: ${gold.length} vs ${predicted.length}`);
  }
  const cells = new Map<Label, Map<Label, number>>();
  const goldSizes = new Map<Label, number>();
  const predictedSizes = new Map<Label, number>();
  gold.forEach((g, i) => {
    const p = predicted[i];
    let row = cells.get(g);
    if (!row) cells.set(g, (row = new Map<Label, number>()));
    row.set(p, (row.get(p) ?? 0) + 1);
    goldSizes.set(g, (goldSizes.get(g) ?? 0) + 1);
    predictedSizes.set(p, (predictedSizes.get(p) ?? 0) + 1);
  });
  return { cells, goldSizes, predictedSizes, total: gold.length };
}

function entropy(sizes: Map<Label, number>, total: number): number {
  let h = 0;
  for (const size of sizes.values()) {
    const p = size / total;
    h -= p * Math.log(p);
  }
  return h;
}

/**
 * Normalised mutual information, arithmetic-mean normalisation (scikit-learn's default):
 * MI / ((H(gold) + H(predicted)) / 2). 1 for identical partitions up to renaming.
 */
export function nmi(gold: readonly Label[], predicted: readonly Label[]): number {
  const { cells, goldSizes, predictedSizes, total } = contingency(gold, predicted);
  if (total === 0) return 1;
  let mutualInformation = 0;
  for (const [g, row] of cells) {
    const goldSize = goldSizes.get(g) ?? 0;
    for (const [p, count] of row) {
      const predictedSize = predictedSizes.get(p) ?? 0;
      mutualInformation += (count / total) * Math.log((count * total) / (goldSize * predictedSize));
    }
  }
  const meanEntropy = (entropy(goldSizes, total) + entropy(predictedSizes, total)) / 2;
  // Both partitions trivial (a single block each): they agree perfectly.
  if (meanEntropy === 0) return 1;
  return Math.max(0, mutualInformation / meanEntropy);
}

const pairs = (n: number): number => (n * (n - 1)) / 2;

/** Adjusted Rand index (Hubert & Arabie): 1 for identical partitions, ~0 for random ones. */
export function ari(gold: readonly Label[], predicted: readonly Label[]): number {
  const { cells, goldSizes, predictedSizes, total } = contingency(gold, predicted);
  let index = 0;
  for (const row of cells.values()) for (const count of row.values()) index += pairs(count);
  let goldPairs = 0;
  for (const size of goldSizes.values()) goldPairs += pairs(size);
  let predictedPairs = 0;
  for (const size of predictedSizes.values()) predictedPairs += pairs(size);
  const expected = (goldPairs * predictedPairs) / pairs(total);
  const maximum = (goldPairs + predictedPairs) / 2;
  // Degenerate partitions (all singletons, or one block on both sides) agree exactly.
  if (maximum === expected) return 1;
  return (index - expected) / (maximum - expected);
}

export interface BCubed {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * B-cubed precision/recall (Bagga & Baldwin), averaged over items: for each item, the share
 * of its predicted cluster that shares its gold label, and the share of its gold class that
 * landed in its predicted cluster.
 */
export function bcubed(gold: readonly Label[], predicted: readonly Label[]): BCubed {
  const { cells, goldSizes, predictedSizes, total } = contingency(gold, predicted);
  if (total === 0) return { precision: 1, recall: 1, f1: 1 };
  let precision = 0;
  let recall = 0;
  for (const [g, row] of cells) {
    const goldSize = goldSizes.get(g) ?? 0;
    for (const [p, count] of row) {
      const predictedSize = predictedSizes.get(p) ?? 0;
      // `count` items each see `count` co-members of both their class and their cluster.
      precision += (count * count) / predictedSize;
      recall += (count * count) / goldSize;
    }
  }
  precision /= total;
  recall /= total;
  return { precision, recall, f1: (2 * precision * recall) / (precision + recall) };
}
