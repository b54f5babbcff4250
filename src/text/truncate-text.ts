/**
 * Cuts `text` to at most `maxChars` characters, on a word boundary when there is one in the
 * second half of the allowance (texts in Chinese or Japanese have none, and are cut hard).
 * `ellipsis` is appended when the text was cut and counts towards `maxChars`.
 */
export function truncateAtWord(text: string, maxChars: number, ellipsis = ''): string {
  if (text.length <= maxChars) return text;
  const room = Math.max(0, maxChars - ellipsis.length);
  let cut = room;
  const space = text.lastIndexOf(' ', room);
  if (space >= room / 2) cut = space;
  // Never split a surrogate pair (emoji, rare CJK characters).
  else if (isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1;
  return text.slice(0, cut).trimEnd() + ellipsis;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
