import { FeedbackItem } from '../../feedback/feedback-item';
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

function clean(text: string): string {
  return collapseWhitespace(normalizeVolatile(stripMarkup(text)));
}

/** True when the text says something: a letter or digit outside placeholders. */
function isReadable(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text.replace(PLACEHOLDER_PATTERN, ''));
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
  const labels = (
    Array.isArray(raw)
      ? raw.map((label) => asString(asRecord(label)?.name ?? label))
      : asString(raw).split(',')
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

/** Removes body lines that only repeat what the text already says. */
function withoutRepeatedLines(body: string, said: string): string {
  const known = said.toLowerCase();
  return body
    .split('\n')
    .filter((line) => {
      const cleaned = clean(line).toLowerCase();
      return cleaned.length < MIN_REPEATED_LINE || !known.includes(cleaned);
    })
    .join('\n');
}

/**
 * Turns a feedback item into the text that is embedded and summarised: title, what the
 * source's metadata adds (Sentry exception and top in-app frames, subreddit, GitHub labels)
 * and body, without markup, with volatile tokens replaced by placeholders, at most
 * `maxChars` long. Items with nothing readable are refused with a reason, to be parked.
 */
export function prepareText(item: FeedbackItem, maxChars: number): PreparedText {
  const limit = Math.max(1, Math.floor(Number.isFinite(maxChars) ? maxChars : 1));
  const budget = limit * RAW_BUDGET_FACTOR;
  const source = asString(item.source).toLowerCase();
  const metadata = asRecord(item.metadata) ?? {};
  const isSentry = source === 'sentry';

  const title = clean(boundRaw(asString(item.title), budget, false));
  const context = sourceContext(source, metadata);
  const sentry = isSentry ? sentrySegments(metadata, budget).map(clean) : [];
  const metadataHasLocation = sentry[1] !== undefined && sentry[1] !== '';

  const head = joinSegments([title, ...(context ? [clean(context)] : []), ...sentry]);
  let body = boundRaw(asString(item.body), budget, true);
  body = condenseStackTrace(body, metadataHasLocation ? 0 : MAX_FRAMES);
  body = clean(withoutRepeatedLines(body, head));
  const text = truncateAtWord(joinSegments([head, body]), limit);

  if (!isReadable([title, ...sentry, body].join(' '))) {
    const blank = [item.title, item.body].every((value) => !asString(value).trim());
    return {
      ok: false,
      reason: blank && sentry.every((s) => !s) ? 'empty text' : 'no readable text',
    };
  }
  return { ok: true, text };
}
