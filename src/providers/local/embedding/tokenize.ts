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

const WORD = /[a-z0-9]+(?:'[a-z]+)?/g;

export function tokenize(text: string): string[] {
  const normalised = text.toLowerCase().replace(/[\u2018\u2019`]/g, "'");
  const tokens: string[] = [];
  for (const [raw] of normalised.matchAll(WORD)) {
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
