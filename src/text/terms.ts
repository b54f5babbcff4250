import { PLACEHOLDER_PATTERN } from './normalize-volatile';
import { STOPWORDS } from './stopwords';

/** The terms of one text: words, and pairs of adjacent words joined by a space. */
export interface TextTerms {
  unigrams: ReadonlySet<string>;
  bigrams: ReadonlySet<string>;
}

const TOKEN = new RegExp(
  String.raw`${PLACEHOLDER_PATTERN.source}|[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:['._-][\p{L}\p{N}][\p{L}\p{M}\p{N}]*)*`,
  'gu',
);
const PLACEHOLDER = new RegExp(`^(?:${PLACEHOLDER_PATTERN.source})$`);
/* Chinese and Japanese write no spaces: their runs are split into overlapping character pairs. */
const UNSPACED_RUN = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]+/gu;
const HAS_UNSPACED = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]/u;
const MIN_LENGTH = 2;
/* Longer tokens are paths, hashes or base64, not words anyone would search for. */
const MAX_LENGTH = 40;

function characterPairs(run: string): string[] {
  const chars = [...run];
  if (chars.length < 2) return chars;
  return chars.slice(1).map((char, i) => chars[i] + char);
}

/* Words form a pair only when nothing but spaces or quotes stand between them. */
const PAIR_GAP = /^[\s'"“”‘’]+$/u;

/**
 * Splits a prepared text into terms. Placeholders, stopwords, numbers and single letters are
 * no terms and also break word pairs, so "reset the password" yields no "reset password";
 * so does punctuation, so "src/checkout.js), user" yields none either.
 */
export function termsOf(text: string): TextTerms {
  const unigrams = new Set<string>();
  const bigrams = new Set<string>();
  const lowered = text.toLowerCase().replace(/’/g, "'");
  let previous: { word: string; end: number } | undefined;
  for (const match of lowered.matchAll(TOKEN)) {
    const token = match[0].replace(/'s$/, '');
    const length = [...token].length;
    const isWord =
      !PLACEHOLDER.test(token) &&
      length >= MIN_LENGTH &&
      length <= MAX_LENGTH &&
      !/^[\p{N}._-]+$/u.test(token) &&
      !STOPWORDS.has(token);
    if (!isWord) {
      previous = undefined;
    } else if (HAS_UNSPACED.test(token)) {
      for (const [run] of token.matchAll(UNSPACED_RUN)) {
        for (const pair of characterPairs(run)) unigrams.add(pair);
      }
      previous = undefined;
    } else {
      unigrams.add(token);
      if (previous && PAIR_GAP.test(lowered.slice(previous.end, match.index))) {
        bigrams.add(`${previous.word} ${token}`);
      }
      previous = { word: token, end: match.index + match[0].length };
    }
  }
  return { unigrams, bigrams };
}
