import { termsOf } from './terms';

/** Background document frequencies: how common a term is across all feedback. */
export interface TermFrequencies {
  /** Number of texts observed. */
  readonly documents: number;
  /** Number of observed texts containing `term` (a word, or two words joined by a space). */
  documentFrequency(term: string): number;
}

/* Past this many distinct terms, the rarest are forgotten so memory stays bounded. */
const DEFAULT_MAX_TERMS = 200_000;

/**
 * Document frequencies over the texts this process has seen, so that words common in all
 * feedback ("app", "error", "crash") weigh less when naming one cluster.
 */
export class TermStatistics implements TermFrequencies {
  private readonly counts = new Map<string, number>();
  private observed = 0;

  constructor(private readonly maxTerms = DEFAULT_MAX_TERMS) {}

  get documents(): number {
    return this.observed;
  }

  observe(texts: Iterable<string>): void {
    for (const text of texts) {
      if (typeof text !== 'string') continue;
      this.observed++;
      const { unigrams, bigrams } = termsOf(text);
      for (const term of [...unigrams, ...bigrams]) {
        this.counts.set(term, (this.counts.get(term) ?? 0) + 1);
      }
    }
    if (this.counts.size > this.maxTerms) this.forgetRarest();
  }

  documentFrequency(term: string): number {
    return this.counts.get(term) ?? 0;
  }

  /** Drops terms seen once, then twice, ... until at most 3/4 of the allowance remain. */
  private forgetRarest(): void {
    const target = Math.floor(this.maxTerms * 0.75);
    for (let threshold = 1; this.counts.size > target; threshold++) {
      for (const [term, count] of this.counts) {
        if (count <= threshold) this.counts.delete(term);
      }
    }
  }
}
