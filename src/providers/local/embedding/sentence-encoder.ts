import stem from 'wink-porter2-stemmer';
import { fnv1a } from './hashing';
import { tokenize } from './tokenize';
import { WordVectors } from './word-vectors';

export interface SentenceRecipe {
  /** SIF smoothing `a` in a/(a + p(w)) for the averaged word vectors. */
  sifA: number;
  /** Principal directions of the word table removed from every word vector ("all-but-the-top"). */
  removedComponents: number;
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
 * Semantic: SIF-weighted mean of word vectors (frequent words count little), words being
 * post-processed so their shared directions do not dominate every sentence.
 * Lexical: signed feature hashing of stems and stem bigrams with the same frequency-based
 * weighting, which separates texts that share a topic but not their key terms.
 * Word frequency comes from the table's own frequency order, via Zipf's law.
 */
export class SentenceEncoder {
  readonly dimensions: number;
  private readonly semanticDimensions: number;
  private readonly vectors: Float32Array;
  private readonly harmonicNumber: number;
  private readonly stems = new Map<string, string>();

  constructor(
    private readonly table: WordVectors,
    private readonly recipe: SentenceRecipe,
  ) {
    this.semanticDimensions = table.dimensions;
    this.dimensions = table.dimensions + recipe.lexicalDimensions;
    this.vectors = removeTopComponents(table, recipe.removedComponents);
    this.harmonicNumber = Math.log(table.rows.size) + 0.5772;
  }

  /** Undefined when the text has no word at all. */
  encode(text: string): Float32Array | undefined {
    const tokens = tokenize(text);
    if (tokens.length === 0) return undefined;
    const out = new Float32Array(this.dimensions);
    const semantic = out.subarray(0, this.semanticDimensions);
    const lexical = out.subarray(this.semanticDimensions);
    const d = this.semanticDimensions;
    const { sifA, lexicalA, bigramWeight } = this.recipe;

    let previous: { stem: string; weight: number } | undefined;
    for (const token of tokens) {
      const row = this.table.rows.get(token);
      const probability = this.probability(row);
      if (row !== undefined) {
        const weight = sifA / (sifA + probability);
        for (let i = 0; i < d; i++) semantic[i] += weight * this.vectors[row * d + i];
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

    const semanticNorm = normOf(semantic);
    const lexicalNorm = normOf(lexical);
    if (semanticNorm === 0 && lexicalNorm === 0) return undefined;
    const lexicalShare = semanticNorm === 0 ? 1 : lexicalNorm === 0 ? 0 : this.recipe.lexicalShare;
    scale(semantic, semanticNorm === 0 ? 0 : Math.sqrt(1 - lexicalShare) / semanticNorm);
    scale(lexical, lexicalNorm === 0 ? 0 : Math.sqrt(lexicalShare) / lexicalNorm);
    return out;
  }

  /** Zipf estimate from the frequency rank; words beyond the table count as rarer than all. */
  private probability(row: number | undefined): number {
    const rank = row ?? this.table.rows.size;
    return 1 / ((rank + 1) * this.harmonicNumber);
  }

  private stem(token: string): string {
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

function scale(v: Float32Array, factor: number): void {
  for (let i = 0; i < v.length; i++) v[i] *= factor;
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
