/**
 * Features of a text with no word in it ("👍👍👍", "???", "-----"): each distinct visible
 * symbol, beside the kind of symbols it is made of. The kind weighs more than any one symbol,
 * so that emoji-only texts resemble each other (and punctuation-only ones each other) more
 * than anything with words, while the same symbols still match best.
 */

/** Weight of the kind feature against a weight of 1 for the symbols together. */
const KIND_WEIGHT = 2;
/* Distinct symbols counted: a text of symbols is short; past this it says nothing more. */
const MAX_SYMBOLS = 64;

const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const PUNCTUATION = /\p{P}/u;
/* Joiners, variation selectors and skin tones change an emoji's look, not what it says. */
const MODIFIER = /[\s\p{M}\p{Cf}\p{Cc}\p{Emoji_Modifier}]/u;

function kindOf(symbol: string): string {
  if (EMOJI.test(symbol)) return 'emoji';
  if (PUNCTUATION.test(symbol)) return 'punctuation';
  return 'symbol';
}

/** Hashed features (name and weight) of the symbols in `text`; empty when it has none. */
export function symbolFeatures(text: string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const symbol of text) {
    if (MODIFIER.test(symbol)) continue;
    if (!counts.has(symbol) && counts.size >= MAX_SYMBOLS) break;
    counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
  }
  if (counts.size === 0) return [];
  const kinds = new Map<string, number>();
  for (const [symbol, count] of counts) {
    const kind = kindOf(symbol);
    kinds.set(kind, (kinds.get(kind) ?? 0) + count);
  }
  // Symbols share a length of 1 and kinds one of KIND_WEIGHT, so neither depends on how many.
  const symbolNorm = Math.hypot(...counts.values());
  const kindNorm = Math.hypot(...kinds.values());
  return [
    ...[...counts].map(([symbol, count]): [string, number] => [
      `symbol:${symbol}`,
      count / symbolNorm,
    ]),
    ...[...kinds].map(([kind, count]): [string, number] => [
      `symbol-kind:${kind}`,
      (KIND_WEIGHT * count) / kindNorm,
    ]),
  ];
}
