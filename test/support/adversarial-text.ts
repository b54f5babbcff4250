/**
 * Hostile strings of a given length, the shapes that make backtracking regexes slow:
 * long runs of every ASCII punctuation character (alone, followed by a letter, and
 * alternating with spaces or newlines), nested brackets, line breaks, dots, markdown
 * table rules, URL and e-mail look-alikes, mixed Unicode and NUL bytes.
 */
export interface AdversarialString {
  name: string;
  text: string;
}

const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** `unit` repeated to exactly `length` characters (never splitting a surrogate pair). */
function repeatTo(unit: string, length: number): string {
  const chars = [...unit];
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const char = chars[i % chars.length];
    if (size + char.length > length) break;
    out.push(char);
    size += char.length;
  }
  return out.join('');
}

/** `unit` repeated to `length` characters, then `tail` (a letter, usually: where a match fails). */
function runThen(unit: string, tail: string, length: number): string {
  return repeatTo(unit, length - tail.length) + tail;
}

export function adversarialStrings(length = 16 * 1024): AdversarialString[] {
  const strings: AdversarialString[] = [];
  for (const char of PUNCTUATION) {
    const code = char.charCodeAt(0).toString(16);
    strings.push({ name: `run of ${char} (0x${code})`, text: repeatTo(char, length) });
    strings.push({ name: `run of ${char} then a letter`, text: runThen(char, 'a', length) });
    strings.push({ name: `${char} and spaces`, text: runThen(`${char} `, 'a', length) });
    strings.push({ name: `${char} and newlines`, text: runThen(`${char}\n`, 'a', length) });
    strings.push({ name: `${char} and a letter`, text: runThen(`${char}a`, '\u00e9', length) });
    strings.push({ name: `${char} and a digit`, text: runThen(`${char}1`, 'a', length) });
  }
  const shapes: Array<[string, string, string]> = [
    ['spaces', ' ', 'a'],
    ['tabs', '\t', 'a'],
    ['newlines', '\n', 'a'],
    ['CRLF', '\r\n', 'a'],
    ['blank lines with spaces', ' \n', 'a'],
    ['NULs', '\u0000', 'a'],
    ['NULs and letters', '\u0000a', '!'],
    ['zero-width spaces', '\u200b', 'a'],
    ['nested brackets', '([{<', 'a'],
    ['nested parentheses', '(', ')a'],
    ['unclosed markdown links', '[a](', 'b'],
    ['unclosed markdown images', '![a](', 'b'],
    ['markdown table rule', '|---', 'a'],
    ['table rule of dashes', '-', 'a'],
    ['spaced rule', '- ', 'a'],
    ['emphasis', '*a', 'b'],
    ['backticks', '`a', 'b'],
    ['headings', '#', ' a'],
    ['blockquotes', '> ', 'a'],
    ['list markers', '- \n', 'a'],
    ['fences', '```\n', 'a'],
    ['html comments', '<!--', 'a'],
    ['script tags', '<script>', 'a'],
    ['html tags', '<b ', 'a'],
    ['entities', '&amp;', 'a'],
    ['partial entities', '&#', 'a'],
    ['dots', '.', 'a'],
    ['dots and digits', '1.', 'a'],
    ['commas and digits', '1,', 'a'],
    ['dashes and digits', '1-', 'a'],
    ['colons and digits', '1:', 'a'],
    ['slashes and digits', '1/', 'a'],
    ['hex digits', '0a', 'g'],
    ['0x prefixes', '0x', 'g'],
    ['token characters', 'a-', '\u00e9'],
    ['underscores', '_', '\u00e9'],
    ['url schemes', 'http://', 'a'],
    ['url with dots', 'http://a.', '.'],
    ['url paths', 'https://a/', ' '],
    ['github links', 'github.com/a/', ' '],
    ['email look-alikes', 'a@', 'a'],
    ['email domains', 'a@a.', '-'],
    ['ipv6 look-alikes', 'a:', 'g'],
    ['stack frames', 'at a (', '\n'],
    ['python frames', 'File "', '\n'],
    ['ruby frames', 'a.rb:1:', '\n'],
    ['at and spaces', 'at ', 'x'],
    ['sentence ends', '. ', ''],
    ['question marks and spaces', '? ', 'a'],
    ['apostrophes and letters', "a'", '\u00e9'],
    ['digits', '1', 'a'],
    ['letters', 'a', '1'],
    ['emoji', '\u{1F44D}', 'a'],
    ['emoji with modifiers', '\u{1F44D}\u{1F3FD}\u200d', 'a'],
    ['combining marks', 'a\u0301', '!'],
    ['han characters', '\u6f22', '!'],
    ['mixed scripts', 'a\u6f22\u0430\u05d0\u{1F600}1', '!'],
    ['lone surrogates', '\ud800', 'a'],
    ['month names', 'may 1 ', 'a'],
    ['placeholders', '<num>', 'a'],
  ];
  for (const [name, unit, tail] of shapes) {
    strings.push({ name, text: runThen(unit, tail, length) });
  }
  strings.push({ name: 'dashes line then letter (table rule)', text: `${'-'.repeat(4001)}a` });
  return strings;
}
