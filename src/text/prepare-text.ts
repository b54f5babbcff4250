import { FeedbackItem } from '../feedback/feedback-item';
import { normalizeVolatile, PLACEHOLDER_PATTERN } from './normalize-volatile';
import { describeFrame, readSentryDetails } from './sentry-metadata';
import { condenseStackTrace } from './stack-trace';
import { collapseWhitespace, stripMarkup } from './strip-markup';
import { truncateAtWord } from './truncate-text';

/** The text the embedder and summarizer see for one item, or why the item has none. */
export type PreparedText = { ok: true; text: string } | { ok: false; reason: string };

/** Frames kept per item: enough to tell two errors with the same message apart. */
const MAX_FRAMES = 3;
const MAX_LABELS = 10;
/*
 * Raw input is cut to this multiple of `maxChars` before any regex runs, so a 2 MB body
 * costs no more than a short one; markup and stack frames removed later leave headroom.
 */
const RAW_BUDGET_FACTOR = 4;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/**
 * Cuts raw text to `budget` characters. Traces may end with the message (Python prints the
 * exception last), so traces keep their tail as well as their head.
 */
function boundRaw(text: string, budget: number, keepTail: boolean): string {
  if (text.length <= budget) return text;
  if (!keepTail) return text.slice(0, budget);
  const head = Math.floor(budget * 0.75);
  return `${text.slice(0, head)}\n${text.slice(text.length - (budget - head))}`;
}

/** How one segment of raw text is tidied: markup removed, and for the embedder normalised too. */
type Tidy = (text: string) => string;

const forEmbedding: Tidy = (text) => normalizeVolatile(stripMarkup(text));
/* Numbers kept: a text of numbers alone ("10/10", "10-4") says them, not "<num>". */
const forEmbeddingWithNumbers: Tidy = (text) =>
  normalizeVolatile(stripMarkup(text), { keepNumbers: true });
const forPeople: Tidy = stripMarkup;

/*
 * Characters that show nothing: control and format characters (zero-width spaces, joiners,
 * bidi marks), unassigned code points, lone surrogates, variation selectors and the blank
 * letters some scripts have (Hangul fillers, the blank Braille pattern).
 */
const INVISIBLE =
  /(?:[\s\p{Cc}\p{Cf}\p{Cs}\p{Cn}\u115F\u1160\u2800\u3164\uFFA0]|\u034F|[\uFE00-\uFE0F])+/gu;

/** True when the text says something in words or numbers, outside placeholders. */
function hasWords(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text.replace(PLACEHOLDER_PATTERN, '').replace(INVISIBLE, ''));
}

function subreddit(metadata: Record<string, unknown>): string | undefined {
  const name = [metadata.subreddit, metadata.subreddit_name_prefixed, metadata.sub]
    .map(asString)
    .map((value) => value.trim().replace(/^\/?r\//i, ''))
    .find((value) => /^[\p{L}\p{N}_]{1,50}$/u.test(value));
  return name ? `r/${name}` : undefined;
}

function githubLabels(metadata: Record<string, unknown>): string | undefined {
  const raw = metadata.labels;
  // Bounded before use: metadata is producer-written and may hold a million labels.
  const labels = (
    Array.isArray(raw)
      ? raw.slice(0, MAX_LABELS * 10).map((label) => asString(asRecord(label)?.name ?? label))
      : asString(raw)
          .slice(0, MAX_LABELS * 100)
          .split(',')
  )
    .map((label) => label.trim().slice(0, 50))
    .filter((label) => label.length > 0)
    .slice(0, MAX_LABELS);
  return labels.length > 0 ? `labels: ${labels.join(', ')}` : undefined;
}

/** What the source's metadata adds that title and body lack. */
function sourceContext(source: string, metadata: Record<string, unknown>): string | undefined {
  if (source === 'reddit') return subreddit(metadata);
  if (source === 'github') return githubLabels(metadata);
  return undefined;
}

function sentrySegments(metadata: unknown, budget: number): string[] {
  const details = readSentryDetails(metadata, MAX_FRAMES);
  const exception = [details.type, details.message].filter(Boolean).join(': ');
  const frames = details.frames.map(describeFrame).join(', ');
  const location = frames || details.culprit;
  return [exception, location ? `at ${location}` : ''].map((s) => boundRaw(s, budget, false));
}

/**
 * Joins segments into one text, as sentences, skipping a segment already said (a Sentry
 * title usually repeats the exception, and the body repeats the title).
 */
function joinSegments(segments: readonly string[]): string {
  let text = '';
  for (const segment of segments) {
    if (!segment || text.toLowerCase().includes(segment.toLowerCase())) continue;
    if (text && segment.toLowerCase().startsWith(text.toLowerCase())) {
      text = segment;
      continue;
    }
    text = !text
      ? segment
      : /[.!?:;…。！？]$/u.test(text)
        ? `${text} ${segment}`
        : `${text}. ${segment}`;
  }
  return text;
}

/** Shorter lines ("Error", "Thanks") may well be repeated on purpose. */
const MIN_REPEATED_LINE = 12;

/** Removes lines of a cleaned body that only repeat what the text already says. */
function withoutRepeatedLines(body: string, said: string): string {
  const known = said.toLowerCase();
  return body
    .split('\n')
    .filter((line) => {
      const cleaned = collapseWhitespace(line).toLowerCase();
      return cleaned.length < MIN_REPEATED_LINE || !known.includes(cleaned);
    })
    .join('\n');
}

/** An item's fields as read for preparation, bounded before any pattern sees them. */
interface RawParts {
  limit: number;
  title: string;
  context: string | undefined;
  sentry: string[];
  body: string;
}

function rawParts(item: FeedbackItem, maxChars: number): RawParts {
  const limit = Math.max(1, Math.floor(Number.isFinite(maxChars) ? maxChars : 1));
  const budget = limit * RAW_BUDGET_FACTOR;
  const source = asString(item.source).toLowerCase();
  const metadata = asRecord(item.metadata) ?? {};
  const sentry = source === 'sentry' ? sentrySegments(metadata, budget) : [];
  const metadataHasLocation = sentry[1] !== undefined && sentry[1] !== '';
  const body = boundRaw(asString(item.body), budget, true);
  return {
    limit,
    title: boundRaw(asString(item.title), budget, false),
    context: sourceContext(source, metadata),
    sentry,
    body: condenseStackTrace(body, metadataHasLocation ? 0 : MAX_FRAMES),
  };
}

/**
 * Title, source context, Sentry details and body as one text of at most `limit` characters,
 * each tidied by `tidy`; `said` is what the item itself says (context left out).
 */
function compose(parts: RawParts, tidy: Tidy): { text: string; said: string } {
  const clean = (text: string) => collapseWhitespace(tidy(text));
  const title = clean(parts.title);
  const sentry = parts.sentry.map(clean);
  const head = joinSegments([title, ...(parts.context ? [clean(parts.context)] : []), ...sentry]);
  // Tidied whole (one pass of each pattern), line breaks kept for the repeated-line check.
  const body = collapseWhitespace(withoutRepeatedLines(tidy(parts.body), head));
  return {
    text: truncateAtWord(joinSegments([head, body]), parts.limit),
    said: [title, ...sentry, body].join(' '),
  };
}

/** The item's text with nothing but its visible characters (single spaces between them). */
function visibleText(parts: RawParts): string {
  const raw = [parts.title, ...parts.sentry, parts.body].join(' ');
  return truncateAtWord(raw.replace(INVISIBLE, ' ').trim(), parts.limit);
}

/**
 * Turns a feedback item into the text that is embedded: title, what the source's metadata
 * adds (Sentry exception and top in-app frames, subreddit, GitHub labels) and body, without
 * markup, with volatile tokens replaced by placeholders, at most `maxChars` long. An item
 * that says nothing in words keeps its numbers ("10-4"), and one without numbers either is
 * embedded as its visible characters ("👍👍", "???"): any visible character is content.
 * Only items with no visible character are refused with a reason, to be parked.
 */
export function prepareText(item: FeedbackItem, maxChars: number): PreparedText {
  const parts = rawParts(item, maxChars);
  for (const tidy of [forEmbedding, forEmbeddingWithNumbers]) {
    const { text, said } = compose(parts, tidy);
    if (hasWords(said)) return { ok: true, text };
  }
  const visible = visibleText(parts);
  if (visible) return { ok: true, text: visible };
  const blank = [item.title, item.body].every((value) => !asString(value).trim());
  return {
    ok: false,
    reason: blank && parts.sentry.every((s) => !s) ? 'empty text' : 'no visible text',
  };
}

/**
 * The item's text as people wrote it, for summaries and issues to quote: the same parts as
 * `prepareText`, markup removed, but nothing normalised ("Android 14", not "Android <num>").
 */
export function readableText(item: FeedbackItem, maxChars: number): string {
  const parts = rawParts(item, maxChars);
  const { text, said } = compose(parts, forPeople);
  return said.replace(INVISIBLE, '') ? text : visibleText(parts);
}
