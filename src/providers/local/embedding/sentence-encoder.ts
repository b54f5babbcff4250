import stem from 'wink-porter2-stemmer';
import { fnv1a } from './hashing';
import { symbolFeatures } from './symbol-features';
import { tokenize } from './tokenize';
import { WordFrequencies } from './word-frequencies';
import { WordVectors } from './word-vectors';

export interface SentenceRecipe {
  /** SIF smoothing `a` in a/(a + p(w)) for the averaged word vectors. */
  sifA: number;
  /** Principal directions of the word table removed from every word vector ("all-but-the-top"). */
  removedComponents: number;
  /** Weight of the element-wise max and min of the weighted word vectors beside their sum. */
  extremaWeight: number;
  /** Hash buckets of the lexical block (bag of stems and stem bigrams). 0 disables it. */
  lexicalDimensions: number;
  /** Smoothing `a` of the lexical block's word weight a/(a + p(w)). */
  lexicalA: number;
  /** Weight of a bigram relative to its words. */
  bigramWeight: number;
  /** Share of the squared norm given to the lexical block (the semantic block gets the rest). */
  lexicalShare: number;
}

/**
 * Turns a short text into one unit vector: [semantic block | lexical block].
 * Semantic: SIF-weighted sum of word vectors (frequent words count little), words being
 * post-processed so their shared directions do not dominate every sentence, beside the
 * element-wise max and min of the same weighted vectors ("power means"), which keep the
 * one strongly-meant word that a sum dilutes.
 * Lexical: signed feature hashing of stems and stem bigrams with a frequency-based weight,
 * which separates texts that share a topic but not their key terms.
 */
export class SentenceEncoder {
  readonly dimensions: number;
  private readonly semanticDimensions: number;
  private readonly vectors: Float32Array;
  private readonly stems = new Map<string, string>();

  constructor(
    private readonly table: WordVectors,
    private readonly frequencies: WordFrequencies,
    private readonly recipe: SentenceRecipe,
  ) {
    this.semanticDimensions = SEMANTIC_PARTS * table.dimensions;
    this.dimensions = encodedDimensions(table.dimensions, recipe);
    this.vectors = removeTopComponents(table, recipe.removedComponents);
  }

  /** Undefined when the text has neither a word nor a visible symbol. */
  encode(text: string): Float32Array | undefined {
    const tokens = tokenize(text);
    // A mark alone (the variation selector of "❤️") is a token, but no word.
    if (!tokens.some((token) => LETTER_OR_NUMBER.test(token))) return this.encodeSymbols(text);
    const out = new Float32Array(this.dimensions);
    const d = this.table.dimensions;
    const sum = out.subarray(0, d);
    const max = out.subarray(d, 2 * d).fill(-Infinity);
    const min = out.subarray(2 * d, 3 * d).fill(Infinity);
    const lexical = out.subarray(this.semanticDimensions);
    const { sifA, lexicalA, bigramWeight, extremaWeight } = this.recipe;

    let inTable = 0;
    let previous: { stem: string; weight: number } | undefined;
    for (const token of tokens) {
      const probability = this.frequencies.probability(token);
      const row = this.table.rows.get(token);
      if (row !== undefined) {
        inTable++;
        const weight = sifA / (sifA + probability);
        for (let i = 0; i < d; i++) {
          const value = weight * this.vectors[row * d + i];
          sum[i] += value;
          if (value > max[i]) max[i] = value;
          if (value < min[i]) min[i] = value;
        }
      }
      if (lexical.length === 0) continue;
      const tokenStem = this.stem(token);
      const weight = lexicalA / (lexicalA + probability);
      addHashed(lexical, tokenStem, weight);
      if (previous && bigramWeight > 0) {
        addHashed(
          lexical,
          `${previous.stem} ${tokenStem}`,
          bigramWeight * Math.sqrt(previous.weight * weight),
        );
      }
      previous = { stem: tokenStem, weight };
    }
    if (inTable === 0) {
      max.fill(0);
      min.fill(0);
    }

    // Each part is scaled to a fixed length, so the recipe's weights are the parts' weights.
    scaleToLength(sum, 1);
    scaleToLength(max, extremaWeight);
    scaleToLength(min, extremaWeight);
    const semantic = out.subarray(0, this.semanticDimensions);
    const hasSemantic = normOf(semantic) > 0;
    const hasLexical = normOf(lexical) > 0;
    if (!hasSemantic && !hasLexical) return undefined;
    const lexicalShare = !hasSemantic ? 1 : !hasLexical ? 0 : this.recipe.lexicalShare;
    scaleToLength(semantic, Math.sqrt(1 - lexicalShare));
    scaleToLength(lexical, Math.sqrt(lexicalShare));
    return out;
  }

  /**
   * A text without words ("👍👍👍", "???") as a vector of the lexical block alone, made of its
   * symbols; texts with words never get such features, so their vectors are unchanged.
   */
  private encodeSymbols(text: string): Float32Array | undefined {
    const features = symbolFeatures(text);
    if (features.length === 0 || this.recipe.lexicalDimensions === 0) return undefined;
    const out = new Float32Array(this.dimensions);
    const lexical = out.subarray(this.semanticDimensions);
    for (const [feature, weight] of features) addHashed(lexical, feature, weight);
    scaleToLength(lexical, 1);
    return normOf(lexical) > 0 ? out : undefined;
  }

  private stem(token: string): string {
    // The stemmer's suffix rules are quadratic in the word's length; no word is this long.
    if (token.length > MAX_STEMMED_CHARS) return token;
    let cached = this.stems.get(token);
    if (cached === undefined) {
      // Bounded: typos make the stream's vocabulary open-ended.
      if (this.stems.size >= 200_000) this.stems.clear();
      cached = stem(token);
      this.stems.set(token, cached);
    }
    return cached;
  }
}

const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u;

/** Longer tokens (hashes, base64, runs of one letter) are hashed as they are. */
const MAX_STEMMED_CHARS = 64;

/** The semantic block holds the sum, the max and the min of the word vectors. */
const SEMANTIC_PARTS = 3;

/** Length of the vectors a recipe makes from a table of `wordDimensions`-d word vectors. */
export function encodedDimensions(wordDimensions: number, recipe: SentenceRecipe): number {
  return SEMANTIC_PARTS * wordDimensions + recipe.lexicalDimensions;
}

function addHashed(target: Float32Array, feature: string, weight: number): void {
  const hash = fnv1a(feature);
  // The top bit picks the sign, so collisions cancel out on average instead of adding up.
  target[hash % target.length] += hash & 0x80000000 ? -weight : weight;
}

function normOf(v: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return Math.sqrt(sum);
}

/** Rescales `v` in place to the given length; a zero vector stays zero. */
function scaleToLength(v: Float32Array, length: number): void {
  const current = normOf(v);
  if (current === 0) return;
  for (let i = 0; i < v.length; i++) v[i] *= length / current;
}

/**
 * Word vectors minus their mean and their top principal directions (Mu & Viswanath, 2018):
 * those directions mostly encode word frequency, not meaning, and would make every
 * sentence look alike. Estimated on the most frequent words of the table itself.
 */
function removeTopComponents(table: WordVectors, count: number): Float32Array {
  const { dimensions: d, vectors } = table;
  const rows = vectors.length / d;
  const sampleRows = Math.min(rows, 50_000);
  const mean = new Float64Array(d);
  for (let r = 0; r < sampleRows; r++) for (let i = 0; i < d; i++) mean[i] += vectors[r * d + i];
  for (let i = 0; i < d; i++) mean[i] /= sampleRows;

  const covariance = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let r = 0; r < sampleRows; r++) {
    for (let i = 0; i < d; i++) centred[i] = vectors[r * d + i] - mean[i];
    for (let i = 0; i < d; i++) {
      const ci = centred[i];
      for (let j = i; j < d; j++) covariance[i * d + j] += ci * centred[j];
    }
  }
  for (let i = 0; i < d; i++)
    for (let j = 0; j < i; j++) covariance[i * d + j] = covariance[j * d + i];
  const components = topEigenvectors(covariance, d, count);

  const out = new Float32Array(vectors.length);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < d; i++) centred[i] = vectors[r * d + i] - mean[i];
    for (const component of components) {
      let projection = 0;
      for (let i = 0; i < d; i++) projection += centred[i] * component[i];
      for (let i = 0; i < d; i++) centred[i] -= projection * component[i];
    }
    for (let i = 0; i < d; i++) out[r * d + i] = centred[i];
  }
  return out;
}

/** Top eigenvectors of a symmetric matrix by power iteration with deflation. */
function topEigenvectors(matrix: Float64Array, d: number, count: number): Float64Array[] {
  const found: Float64Array[] = [];
  const work = Float64Array.from(matrix);
  for (let k = 0; k < count; k++) {
    let v = new Float64Array(d).map((_, i) => 1 / Math.sqrt(d) + (i % 7) * 1e-3);
    let eigenvalue = 0;
    for (let iteration = 0; iteration < 500; iteration++) {
      const next = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let sum = 0;
        for (let j = 0; j < d; j++) sum += work[i * d + j] * v[j];
        next[i] = sum;
      }
      const length = Math.hypot(...next);
      for (let i = 0; i < d; i++) next[i] /= length;
      const converged = Math.abs(length - eigenvalue) < 1e-9 * length;
      v = next;
      eigenvalue = length;
      if (converged) break;
    }
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) work[i * d + j] -= eigenvalue * v[i] * v[j];
    found.push(v);
  }
  return found;
}
