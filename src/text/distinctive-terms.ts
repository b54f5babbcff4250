import { TermFrequencies } from './term-statistics';
import { termsOf } from './terms';

export type { TermFrequencies } from './term-statistics';
export { TermStatistics } from './term-statistics';

const DEFAULT_LIMIT = 10;
/* A pair must occur in at least this share of the texts that contain its more frequent word. */
const BIGRAM_COHESION = 0.5;
/* A cohesive pair says more than either word ("password reset" vs "reset"). */
const BIGRAM_BOOST = 1.3;
/* Share of a chosen word's reports a later pair must cover to replace the word. */
const BIGRAM_UPGRADE = 0.6;

interface ScoredTerm {
  term: string;
  score: number;
  support: number;
  words?: [string, string];
}

function countTexts(sets: readonly ReadonlySet<string>[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const set of sets) for (const term of set) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

/**
 * The terms that set a cluster apart, most distinctive first: words (and word pairs that
 * occur together consistently) found in many of the cluster's `texts` and rare in the
 * `background`. Without a background, only stopwords are discounted.
 */
export function distinctiveTerms(
  texts: readonly string[],
  background?: TermFrequencies,
  limit = DEFAULT_LIMIT,
): string[] {
  const parsed = texts.filter((text) => typeof text === 'string').map(termsOf);
  const n = parsed.length;
  if (n === 0 || limit <= 0) return [];
  // In a larger sample, a word from one report alone does not describe the cluster.
  const minSupport = n >= 4 ? 2 : 1;
  const idf = (term: string): number =>
    background && background.documents > 0
      ? Math.log((background.documents + 1) / (background.documentFrequency(term) + 1)) + 1
      : 1;

  const unigramCounts = countTexts(parsed.map((p) => p.unigrams));
  const candidates: ScoredTerm[] = [];
  for (const [term, support] of unigramCounts) {
    if (support >= minSupport) candidates.push({ term, support, score: (support / n) * idf(term) });
  }
  if (n >= 2) {
    for (const [term, support] of countTexts(parsed.map((p) => p.bigrams))) {
      if (support < Math.max(2, minSupport)) continue;
      const [first, second] = term.split(' ') as [string, string];
      const widest = Math.max(unigramCounts.get(first) ?? 0, unigramCounts.get(second) ?? 0);
      if (support < BIGRAM_COHESION * widest) continue;
      const score = (support / n) * ((idf(first) + idf(second)) / 2) * BIGRAM_BOOST;
      candidates.push({ term, support, score, words: [first, second] });
    }
  }
  candidates.sort(
    (a, b) => b.score - a.score || b.support - a.support || (a.term < b.term ? -1 : 1),
  );

  /*
   * A word inside a chosen pair adds nothing. A pair that comes after one of its words
   * takes that word's place when it covers most of its reports ("invalid" → "invalid token").
   */
  const chosen: ScoredTerm[] = [];
  const covered = new Set<string>();
  for (const candidate of candidates) {
    if (chosen.length >= limit) break;
    if (!candidate.words) {
      if (!covered.has(candidate.term)) chosen.push(candidate);
      continue;
    }
    const words = candidate.words;
    const taken = chosen.filter((c) => !c.words && words.includes(c.term));
    if (taken.some((word) => candidate.support < BIGRAM_UPGRADE * word.support)) continue;
    if (words.some((word) => covered.has(word))) continue;
    words.forEach((word) => covered.add(word));
    if (taken.length === 0) {
      chosen.push(candidate);
      continue;
    }
    chosen[chosen.indexOf(taken[0])] = candidate;
    for (const word of taken.slice(1)) chosen.splice(chosen.indexOf(word), 1);
  }
  return chosen.map((c) => c.term);
}
