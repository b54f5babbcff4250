/** One stack frame as read from Sentry metadata; at least one of the fields is set. */
export interface SentryFrame {
  function?: string;
  /** Module, or file name when the SDK reports no module. */
  module?: string;
}

/** What identifies a Sentry error, read from whichever metadata shape the producer wrote. */
export interface SentryDetails {
  type?: string;
  message?: string;
  /** The innermost in-app frames, innermost first. */
  frames: SentryFrame[];
  /** Sentry's own guess of where the error happened, e.g. "app/checkout.js in submitOrder". */
  culprit?: string;
}

/* Metadata is producer-written: long strings and huge frame lists are cut before use. */
const MAX_FIELD_CHARS = 1000;
const MAX_FRAMES_SCANNED = 500;
const MAX_CHAINED_EXCEPTIONS = 50;

/* Sentry's event-level `type` says what kind of event it is, not which exception. */
const EVENT_TYPES = new Set(['error', 'default', 'transaction', 'csp', 'expectct', 'hpkp']);

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const text = value.slice(0, MAX_FIELD_CHARS).trim();
  return text || undefined;
}

function firstText(records: readonly Record<string, unknown>[], keys: readonly string[]) {
  for (const record of records) {
    for (const key of keys) {
      const text = asText(record[key]);
      if (text) return text;
    }
  }
  return undefined;
}

/** Sentry lists chained exceptions oldest first: the last one is the error that surfaced. */
function exceptionValues(exception: Record<string, unknown> | undefined) {
  const values = exception?.values;
  if (!Array.isArray(values)) return [];
  return values
    .slice(-MAX_CHAINED_EXCEPTIONS)
    .map(asRecord)
    .filter((value) => value !== undefined)
    .reverse();
}

function frameList(record: Record<string, unknown> | undefined): unknown[] | undefined {
  if (!record) return undefined;
  if (Array.isArray(record.frames)) return record.frames as unknown[];
  const frames = asRecord(record.stacktrace)?.frames;
  return Array.isArray(frames) ? (frames as unknown[]) : undefined;
}

function isInApp(frame: Record<string, unknown>): boolean | undefined {
  const flag = frame.in_app ?? frame.inApp;
  if (flag === true || flag === 'true') return true;
  if (flag === false || flag === 'false') return false;
  return undefined;
}

function readFrame(raw: unknown): SentryFrame | undefined {
  if (typeof raw === 'string') {
    const text = asText(raw);
    return text ? { function: text } : undefined;
  }
  const frame = asRecord(raw);
  if (!frame) return undefined;
  const fn = asText(frame.function);
  const module = asText(frame.module) ?? asText(frame.filename) ?? asText(frame.abs_path);
  if (!fn && !module) return undefined;
  return { ...(fn && { function: fn }), ...(module && { module }) };
}

/**
 * The last `limit` in-app frames, innermost first. Frames are in Sentry's order (outermost
 * first). When no frame says it is in-app, frames not marked otherwise are taken instead.
 */
function innermostFrames(frames: readonly unknown[], limit: number): SentryFrame[] {
  const scanned = frames.slice(-MAX_FRAMES_SCANNED).reverse();
  const flags = scanned.map((frame) => {
    const record = asRecord(frame);
    return record ? isInApp(record) : undefined;
  });
  const anyInApp = flags.includes(true);
  const picked: SentryFrame[] = [];
  scanned.forEach((frame, i) => {
    if (picked.length >= limit) return;
    if (anyInApp ? flags[i] !== true : flags[i] === false) return;
    const read = readFrame(frame);
    if (read) picked.push(read);
  });
  return picked;
}

/**
 * Reads exception type, message and innermost in-app frames from Sentry metadata of any of
 * the shapes producers write: a flat `{ exception_type, message, frames }`, Sentry's issue
 * metadata `{ type, value }`, or a full event with `exception.values[].stacktrace.frames`.
 * Anything else (a string, an array, garbage) yields no details.
 */
export function readSentryDetails(metadata: unknown, maxFrames = 3): SentryDetails {
  const root = asRecord(metadata);
  if (!root) return { frames: [] };
  const exception = asRecord(root.exception);
  const values = exceptionValues(exception);
  const nested = asRecord(root.metadata);
  const records = [...values, ...(exception ? [exception] : []), root, ...(nested ? [nested] : [])];

  const rootType = asText(root.type);
  const type =
    firstText([...values, ...(exception ? [exception] : [])], ['type']) ??
    firstText([root], ['exception_type', 'exceptionType', 'error_type', 'errorType']) ??
    (rootType && !EVENT_TYPES.has(rootType.toLowerCase()) ? rootType : undefined) ??
    firstText(nested ? [nested] : [], ['type']);
  const message = firstText(records, [
    'value',
    'exception_value',
    'exception_message',
    'error_message',
    'errorMessage',
    'message',
  ]);

  let frames: SentryFrame[] = [];
  for (const record of records) {
    const list = frameList(record);
    if (list && list.length > 0) {
      frames = innermostFrames(list, maxFrames);
      if (frames.length > 0) break;
    }
  }
  const culprit = asText(root.culprit);
  return {
    ...(type && { type }),
    ...(message && { message }),
    frames,
    ...(culprit && { culprit }),
  };
}

/** "submitOrder (src/checkout.js)", or whichever part the frame has. */
export function describeFrame(frame: SentryFrame): string {
  if (frame.function && frame.module) return `${frame.function} (${frame.module})`;
  return frame.function ?? frame.module ?? '';
}
