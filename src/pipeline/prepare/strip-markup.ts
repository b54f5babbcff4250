/*
 * Only known HTML tags are removed, so that code in error messages ("Map<String, Object>",
 * "Promise<void>") survives.
 */
const HTML_TAG_NAMES = [
  'a', 'abbr', 'article', 'b', 'blockquote', 'body', 'br', 'button', 'center', 'code', 'del',
  'details', 'div', 'em', 'font', 'footer', 'form', 'h[1-6]', 'head', 'header', 'hr', 'html',
  'i', 'iframe', 'img', 'input', 'ins', 'kbd', 'label', 'li', 'meta', 'nav', 'ol', 'p', 'pre',
  's', 'section', 'small', 'source', 'span', 'strike', 'strong', 'sub', 'summary', 'sup',
  'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'u', 'ul', 'video',
].join('|'); // prettier-ignore

const HTML_TAG = new RegExp(String.raw`<\/?(?:${HTML_TAG_NAMES})(?:\s[^<>]{0,500})?\/?>`, 'gi');
const HTML_BLOCK = /<(script|style)\b[^>]{0,500}>[\s\S]*?<\/\1\s*>/gi;
const HTML_COMMENT = /<!--[\s\S]*?-->/g;

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};
const ENTITY = /&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|(amp|lt|gt|quot|apos|nbsp));/gi;

/* Zero-width characters (Reddit pads with "&#x200B;") and control characters other than \t \n. */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u0000-\u0008\u000B-\u001F\u007F]/g;

const MD_IMAGE = /!\[([^\]\n]{0,500})\]\([^)\s]{0,2000}(?:\s[^)]{0,500})?\)/g;
const MD_LINK = /\[([^\]\n]{1,500})\]\(([^)\s]{1,2000})(?:\s[^)]{0,500})?\)/g;
const FENCE_LINE = /^\s*(?:```|~~~).*$/gm;
const HEADING = /^\s{0,3}#{1,6}\s+/gm;
const BLOCKQUOTE = /^\s*(?:>\s?)+/gm;
const LIST_MARKER = /^\s*(?:[-*+]|\d{1,3}[.)])\s+/gm;
const TABLE_RULE = /^[\s|:-]*-{3,}[\s|:-]*$/gm;
const RULE_LINE = /^\s*(?:[-*_=]\s*){3,}$/gm;
const EMPHASIS = /\*\*|__|~~/g;
const BACKTICKS = /`/g;
const SINGLE_STAR = /(^|[\s(])\*(\S(?:[^*\n]{0,200}\S)?)\*(?=[\s).,!?:;]|$)/gm;
const SEPARATOR_RUN = /([=\-_*#~+|])\1{3,}/g;
const REPEATED_MARK = /([!?])[!?]+/g;

function decodeEntity(
  match: string,
  decimal: string | undefined,
  hex: string | undefined,
  name: string | undefined,
): string {
  if (name) return NAMED_ENTITIES[name.toLowerCase()] ?? match;
  const code = decimal ? Number(decimal) : parseInt(hex ?? '', 16);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
}

/**
 * Removes HTML and Markdown formatting, keeping the words (and link targets, which may name
 * a repository). Keeps line breaks, so line-based steps can still run afterwards.
 */
export function stripMarkup(text: string): string {
  return (
    text
      .replace(HTML_COMMENT, ' ')
      .replace(HTML_BLOCK, ' ')
      .replace(HTML_TAG, ' ')
      // Twice: Reddit encodes entities again ("&amp;#x200B;").
      .replace(ENTITY, decodeEntity)
      .replace(ENTITY, decodeEntity)
      .replace(INVISIBLE, '')
      .replace(MD_IMAGE, '$1')
      .replace(MD_LINK, (_match, label: string, url: string) =>
        label.trim() === url ? url : `${label} (${url})`,
      )
      .replace(FENCE_LINE, '')
      .replace(TABLE_RULE, '')
      .replace(RULE_LINE, '')
      .replace(HEADING, '')
      .replace(BLOCKQUOTE, '')
      .replace(LIST_MARKER, '')
      .replace(EMPHASIS, '')
      .replace(SINGLE_STAR, '$1$2')
      .replace(BACKTICKS, '')
      .replace(SEPARATOR_RUN, ' ')
      .replace(REPEATED_MARK, '$1')
      .replace(/\|/g, ' ')
  );
}

/** Collapses every run of whitespace (line breaks included) into one space. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
