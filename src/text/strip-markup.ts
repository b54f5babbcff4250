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
const HTML_BLOCK_OPEN = /<(script|style)\b[^>]{0,500}>/gi;
const HTML_BLOCK_CLOSE: Record<string, RegExp> = {
  script: /<\/script\s*>/gi,
  style: /<\/style\s*>/gi,
};

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

/*
 * No part of a link may hold a bracket that could open another link, so that a run of "[" or
 * "[a](" is read once, not once from every bracket in it.
 */
const MD_IMAGE = /!\[([^[\]\n]{0,500})\]\([^()[\]\s]{0,2000}(?:\s[^()[\]\n]{0,500})?\)/g;
const MD_LINK = /\[([^[\]\n]{1,500})\]\(([^()[\]\s]{1,2000})(?:\s[^()[\]\n]{0,500})?\)/g;
/*
 * Line rules run on one line at a time, anchored at its start and matching only spaces and
 * tabs as indentation: a rule that could cross line breaks, or whose quantifiers could split
 * the same run of dashes several ways, is quadratic or worse on a long run.
 */
const FENCE_LINE = /^[ \t]*(?:```|~~~)/;
const HEADING = /^[ \t]{0,3}#{1,6}[ \t]+/;
const BLOCKQUOTE = /^[ \t]*(?:>[ \t]?)+/;
const LIST_MARKER = /^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+/;
/* A table rule ("|---|:--:|") or a horizontal rule ("***", "- - -"): only these characters. */
const TABLE_RULE_CHARS = /^[\s|:-]*$/;
const RULE_LINE_CHARS = /^[\s*_=-]*$/;
const RULE_MARKS = /[*_=-]/g;
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
 * Removes every `<!-- ... -->` comment and `<script>`/`<style>` block in one pass over the
 * text: each search starts where the last one ended, and a comment or block left open stops
 * the search for its kind instead of scanning the rest again for every later opening.
 */
function removeCommentsAndBlocks(text: string): string {
  const parts: string[] = [];
  const unclosed = new Set<string>();
  let from = 0;
  let comment = -2; // -2: not searched yet, -1: none left
  let block: RegExpExecArray | null | undefined;
  const nextBlock = (): RegExpExecArray | null => {
    HTML_BLOCK_OPEN.lastIndex = from;
    let found = HTML_BLOCK_OPEN.exec(text);
    while (found && unclosed.has(found[1].toLowerCase())) found = HTML_BLOCK_OPEN.exec(text);
    return found;
  };
  for (;;) {
    if (comment !== -1 && comment < from) comment = text.indexOf('<!--', from);
    if (block === undefined || (block && block.index < from)) block = nextBlock();
    if (comment < 0 && !block) break;
    if (comment >= 0 && (!block || comment < block.index)) {
      const close = text.indexOf('-->', comment + 4);
      if (close < 0) {
        comment = -1;
        continue;
      }
      parts.push(text.slice(from, comment), ' ');
      from = close + 3;
      continue;
    }
    const opened = block as RegExpExecArray;
    const name = opened[1].toLowerCase();
    const closing = HTML_BLOCK_CLOSE[name];
    closing.lastIndex = opened.index + opened[0].length;
    const close = closing.exec(text);
    if (!close) {
      unclosed.add(name);
      block = undefined;
      continue;
    }
    parts.push(text.slice(from, opened.index), ' ');
    from = close.index + close[0].length;
  }
  parts.push(text.slice(from));
  return parts.join('');
}

function isRuleLine(line: string): boolean {
  if (TABLE_RULE_CHARS.test(line) && line.includes('---')) return true;
  return RULE_LINE_CHARS.test(line) && (line.match(RULE_MARKS)?.length ?? 0) >= 3;
}

/** Markdown block syntax of one line: fences and rules go, heading, quote and list marks too. */
function stripLine(line: string): string {
  if (FENCE_LINE.test(line) || isRuleLine(line)) return '';
  return line.replace(HEADING, '').replace(BLOCKQUOTE, '').replace(LIST_MARKER, '');
}

/**
 * Removes HTML and Markdown formatting, keeping the words (and link targets, which may name
 * a repository). Keeps line breaks, so line-based steps can still run afterwards.
 */
export function stripMarkup(text: string): string {
  const inline = removeCommentsAndBlocks(text)
    .replace(HTML_TAG, ' ')
    // Twice: Reddit encodes entities again ("&amp;#x200B;").
    .replace(ENTITY, decodeEntity)
    .replace(ENTITY, decodeEntity)
    .replace(INVISIBLE, '')
    .replace(MD_IMAGE, '$1')
    .replace(MD_LINK, (_match, label: string, url: string) =>
      label.trim() === url ? url : `${label} (${url})`,
    );
  return inline
    .split('\n')
    .map(stripLine)
    .join('\n')
    .replace(EMPHASIS, '')
    .replace(SINGLE_STAR, '$1$2')
    .replace(BACKTICKS, '')
    .replace(SEPARATOR_RUN, ' ')
    .replace(REPEATED_MARK, '$1')
    .replace(/\|/g, ' ');
}

/** Collapses every run of whitespace (line breaks included) into one space. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
