/**
 * Placeholders for tokens that differ between two reports of the same problem
 * (ids, addresses, times, ...), so that those reports read, embed and cluster alike.
 */
export const PLACEHOLDERS = {
  uuid: '<uuid>',
  hex: '<hex>',
  id: '<id>',
  num: '<num>',
  time: '<time>',
  email: '<email>',
  ip: '<ip>',
} as const;

export type Placeholder = (typeof PLACEHOLDERS)[keyof typeof PLACEHOLDERS];

/** Matches any placeholder; global, so use with `replace` or `match`, not `test`. */
export const PLACEHOLDER_PATTERN = /<(?:uuid|hex|id|num|time|email|ip)>/g;

export interface NormalizeOptions {
  /** Keep plain numbers (titles read better with "error 500" than "error <num>"). */
  keepNumbers?: boolean;
}

/*
 * Token boundaries. A letter, digit or underscore next to a token means it is part of a
 * longer word ("v2", "abc123"), except for Chinese and Japanese letters: those scripts
 * write no spaces, so "エラー404が発生" still has a standalone number.
 */
const WORD_CHAR = String.raw`(?![\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}])[\p{L}\p{N}_]`;
const START = String.raw`(?<!${WORD_CHAR})`;
const END = String.raw`(?!${WORD_CHAR})`;

function rule(source: string, flags = 'giu'): RegExp {
  return new RegExp(source, flags);
}

/*
 * URLs are found by their scheme and then read by hand: a pattern for "host, path, then a
 * query" would re-read the same long path from every later "http://" inside it.
 */
const URL_SCHEME = /\b(?:https?|wss?|ftp):\/\//gi;
/** What ends a URL. */
const URL_END = /[\s<>"'\x60]/g;

function indexOfAny(text: string, chars: string, from: number, to: number): number {
  for (let i = from; i < to; i++) if (chars.includes(text[i])) return i;
  return -1;
}

/**
 * Keeps scheme, host and path of every URL; drops query string and fragment, which carry
 * per-user state, up to the end of the URL or a closing bracket. One pass over the text.
 */
function dropQueryStrings(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  let end = -1;
  URL_SCHEME.lastIndex = 0;
  for (let scheme = URL_SCHEME.exec(text); scheme; scheme = URL_SCHEME.exec(text)) {
    const host = scheme.index + scheme[0].length;
    // The URL ends at the same place as the previous one when that one reached past here.
    if (end < host) {
      URL_END.lastIndex = host;
      end = URL_END.exec(text)?.index ?? text.length;
    }
    const afterHost = indexOfAny(text, '/?#', host, end);
    const query = afterHost === host ? -1 : indexOfAny(text, '?#', host, end);
    if (query < 0) {
      URL_SCHEME.lastIndex = Math.max(end, host);
      continue;
    }
    const tail = indexOfAny(text, ')]', query + 1, end);
    parts.push(text.slice(copied, query));
    copied = tail < 0 ? end : tail;
    URL_SCHEME.lastIndex = copied;
  }
  parts.push(text.slice(copied));
  return parts.join('');
}

/* Lengths are bounded (RFC 5321 limits) so a long run of letters cannot backtrack quadratically. */
const EMAIL = rule(
  String.raw`(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]{1,64}@[\p{L}\p{N}-]{1,63}(?:\.[\p{L}\p{N}-]{1,63}){1,8}${END}`,
);

const UUID = rule(
  String.raw`${START}[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}${END}`,
);

const MONTH = String.raw`(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.?`;
const TIMES: RegExp[] = [
  // ISO 8601 date with optional time and offset: 2024-05-01, 2024-05-01T10:22:03.120+02:00
  rule(
    String.raw`${START}\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)?${END}`,
  ),
  // 05/01/2024, 1/5/24, 01.05.2024
  rule(String.raw`${START}(?:\d{1,2}\/\d{1,2}\/\d{2,4}|\d{1,2}\.\d{1,2}\.\d{4})${END}`),
  // May 1, 2024 / 1 May 2024
  rule(
    String.raw`${START}(?:${MONTH}\s\d{1,2}(?:st|nd|rd|th)?,?\s\d{4}|\d{1,2}\s${MONTH}\s\d{4})${END}`,
  ),
  // 10:22, 10:22:03.120, 10:22 pm; not "file.js:42:17", whose numbers are line and column
  rule(
    String.raw`(?<![\p{L}\p{N}_:.])\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?[ap]\.?m\.?)?(?![\p{L}\p{N}_]|:\d)`,
  ),
];

const IPV4 = rule(String.raw`${START}(?:\d{1,3}\.){3}\d{1,3}${END}`);
const IPV6 = rule(
  String.raw`(?<![\p{L}\p{N}_:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\p{L}\p{N}_:])|(?<![\p{L}\p{N}_:])(?:[0-9a-f]{1,4}:){1,6}(?::[0-9a-f]{1,4}){1,6}(?![\p{L}\p{N}_:])`,
);

const HEX_ADDRESS = rule(String.raw`${START}0x[0-9a-f]+${END}`);
/** Hashes, commit ids, bundle fingerprints: 8+ hex characters mixing digits and letters. */
const LONG_HEX = rule(String.raw`${START}(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}${END}`);
/** Candidates for opaque ids (tokens, keys); `isOpaqueId` decides. */
const LONG_TOKEN = rule(String.raw`${START}[a-z0-9_-]{20,}${END}`);

/** Numbers, with an attached unit or ordinal kept readable: "30s" → "<num>s". */
const NUMBER = rule(
  String.raw`(?<!\.|${WORD_CHAR})\d+(?:[.,]\d+)*(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|ms|s|h|px|kb|mb|gb|tb|st|nd|rd|th|x)?${END}`,
);

/** True for ids like "sk_live_4eC39HqLyjWDarjtT1zdp7dc", not for "handle_checkout_submit_v2". */
function isOpaqueId(token: string): boolean {
  let switches = 0;
  for (let i = 1; i < token.length; i++) {
    const digitBefore = /\d/.test(token[i - 1]);
    const digitHere = /\d/.test(token[i]);
    if (digitBefore !== digitHere && /[a-z]/i.test(digitHere ? token[i - 1] : token[i])) {
      switches++;
    }
  }
  return switches >= 4;
}

function isIpv4(match: string): boolean {
  return match.split('.').every((octet) => Number(octet) <= 255);
}

/**
 * Replaces volatile tokens with stable placeholders: URLs lose query string and fragment,
 * then emails, UUIDs, dates and times, IP addresses, hex addresses and ids, opaque tokens
 * and numbers become `<email>`, `<uuid>`, `<time>`, `<ip>`, `<hex>`, `<id>`, `<num>`.
 * Linear in the length of the text; bound the text before calling on untrusted input.
 */
export function normalizeVolatile(text: string, options: NormalizeOptions = {}): string {
  let out = dropQueryStrings(text);
  out = out.replace(EMAIL, PLACEHOLDERS.email);
  out = out.replace(UUID, PLACEHOLDERS.uuid);
  for (const pattern of TIMES) out = out.replace(pattern, PLACEHOLDERS.time);
  out = out.replace(IPV4, (match) => (isIpv4(match) ? PLACEHOLDERS.ip : match));
  out = out.replace(IPV6, PLACEHOLDERS.ip);
  out = out.replace(HEX_ADDRESS, PLACEHOLDERS.hex);
  out = out.replace(LONG_HEX, PLACEHOLDERS.hex);
  out = out.replace(LONG_TOKEN, (match) => (isOpaqueId(match) ? PLACEHOLDERS.id : match));
  if (!options.keepNumbers) {
    out = out.replace(
      NUMBER,
      (_match, unit: string | undefined) => PLACEHOLDERS.num + (unit ?? ''),
    );
  }
  return out;
}

/** Removes placeholders, e.g. from a title meant for people rather than for the embedder. */
export function removePlaceholders(text: string): string {
  return text.replace(PLACEHOLDER_PATTERN, '');
}
