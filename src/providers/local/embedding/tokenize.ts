/**
 * Lower-case word tokens, with English contractions spelled out: the word-vector table has
 * no clitic tokens ("n't", "'s"), and users often drop the apostrophe ("dont", "im").
 */

const CONTRACTIONS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    "can't": ['can', 'not'],
    cant: ['can', 'not'],
    "won't": ['will', 'not'],
    wont: ['will', 'not'],
    "shan't": ['shall', 'not'],
    "i'm": ['i', 'am'],
    im: ['i', 'am'],
    "let's": ['let', 'us'],
    ive: ['i', 'have'],
    youre: ['you', 'are'],
    theyre: ['they', 'are'],
    whats: ['what', 'is'],
    thats: ['that', 'is'],
    theres: ['there', 'is'],
  }),
);

/** Apostrophe-less "dont", "doesnt", ... that are not words of their own. */
const BARE_NOT =
  /^(do|does|did|is|are|was|were|has|have|had|could|would|should|must|need|might)nt$/;

const SUFFIXES: ReadonlyArray<[string, string]> = [
  ["n't", 'not'],
  ["'re", 'are'],
  ["'ve", 'have'],
  ["'ll", 'will'],
  ["'d", 'would'],
  ["'m", 'am'],
  ["'s", ''],
];

/** Letters of any script, digits, and an apostrophe clitic. */
const WORD = /[\p{L}\p{M}\p{N}]+(?:'[\p{L}]+)?/gu;
/** Scripts written without spaces between words: their runs are split into character pairs. */
const UNSPACED =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]+/gu;

/** Overlapping character pairs of a run of unspaced script (a run of one stays whole). */
function characterPairs(run: string): string[] {
  const chars = [...run];
  if (chars.length < 2) return chars;
  return chars.slice(1).map((c, i) => chars[i] + c);
}

/** Plain ASCII text (most feedback) skips the Unicode script checks. */
const NON_ASCII = /[^\u0020-\u007e\s]/;

export function tokenize(text: string): string[] {
  const lowered = text.toLowerCase().replace(/[\u2018\u2019`]/g, "'");
  const unicode = NON_ASCII.test(lowered);
  // Pad unspaced runs so they become words of their own, then split them below.
  const normalised = unicode ? lowered.replace(UNSPACED, (run) => ` ${run} `) : lowered;
  const tokens: string[] = [];
  for (const [raw] of normalised.matchAll(WORD)) {
    if (unicode && UNSPACED.test(raw)) {
      UNSPACED.lastIndex = 0;
      tokens.push(...characterPairs(raw));
      continue;
    }
    const expanded = CONTRACTIONS.get(raw);
    if (expanded) {
      tokens.push(...expanded);
      continue;
    }
    const bareNot = BARE_NOT.exec(raw);
    if (bareNot) {
      tokens.push(bareNot[1], 'not');
      continue;
    }
    const suffix = SUFFIXES.find(([ending]) => raw.endsWith(ending));
    if (!suffix) {
      tokens.push(raw);
      continue;
    }
    const [ending, replacement] = suffix;
    tokens.push(raw.slice(0, -ending.length));
    if (replacement) tokens.push(replacement);
  }
  return tokens.filter((token) => token.length > 0 && !token.includes("'"));
}
