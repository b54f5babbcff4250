import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Info, parse as parseCsv } from 'csv-parse/sync';
import { FeedbackValidationError, ValidFeedback, validateNewFeedback } from './feedback-writer';

/** Columns (CSV) and keys (JSONL) a feedback file may hold, named as in the Redis hash. */
export const FEEDBACK_FILE_FIELDS = [
  'source',
  'title',
  'body',
  'created_at',
  'external_id',
  'raw_text',
  'metadata',
  'repo',
  'github_issue_url',
  'github_issue_number',
  'status',
] as const;

export interface FeedbackFileOptions {
  /** Source for rows that name none. */
  defaultSource?: string;
  /** CSV column used as the body when a row has no `body` value. */
  textColumn?: string;
}

export interface ParsedFeedbackRow {
  /** 1-based line where the row starts in the file. */
  line: number;
  feedback: ValidFeedback;
}

export interface RejectedFeedbackRow {
  line: number;
  reason: string;
}

export interface ParsedFeedbackFile {
  rows: ParsedFeedbackRow[];
  rejected: RejectedFeedbackRow[];
}

/** The file as a whole cannot be used (unreadable, unknown format, a missing column). */
export class FeedbackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedbackFileError';
  }
}

/** Reads a `.csv` or `.jsonl` file. Bad rows are returned as rejected; they never stop the others. */
export async function readFeedbackFile(
  path: string,
  options: FeedbackFileOptions = {},
): Promise<ParsedFeedbackFile> {
  const extension = extname(path).toLowerCase();
  if (extension !== '.csv' && extension !== '.jsonl') {
    throw new FeedbackFileError(`${path}: expected a .csv or .jsonl file`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FeedbackFileError(`${path}: cannot read (${(error as Error).message})`);
  }
  return extension === '.csv' ? parseFeedbackCsv(text, options) : parseFeedbackJsonl(text, options);
}

/** One JSON object per line, keys as in FEEDBACK_FILE_FIELDS; blank lines are skipped. */
export function parseFeedbackJsonl(
  text: string,
  options: FeedbackFileOptions = {},
): ParsedFeedbackFile {
  const result: ParsedFeedbackFile = { rows: [], rejected: [] };
  text.split(/\r?\n/).forEach((lineText, index) => {
    if (lineText.trim() === '') return;
    const line = index + 1;
    let record: unknown;
    try {
      record = JSON.parse(lineText);
    } catch (error) {
      result.rejected.push({ line, reason: `not valid JSON (${(error as Error).message})` });
      return;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      result.rejected.push({ line, reason: 'must be a JSON object' });
      return;
    }
    addRow(result, line, () => feedbackFromRecord(record as Record<string, unknown>, options));
  });
  return result;
}

/** What csv-parse yields with `info` and `raw` on (its typings only describe plain rows). */
interface CsvRecord {
  info: Info;
  raw: string;
  record: string[];
}

/** A header row names the columns (any order, case-insensitive); unknown columns are ignored. */
export function parseFeedbackCsv(
  text: string,
  options: FeedbackFileOptions = {},
): ParsedFeedbackFile {
  const result: ParsedFeedbackFile = { rows: [], rejected: [] };
  const records = parseCsv(text.replace(/\r\n?/g, '\n'), {
    bom: true,
    info: true,
    raw: true,
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      if (error) result.rejected.push({ line: Number(error.lines), reason: error.message });
      return undefined;
    },
  }) as unknown as CsvRecord[];
  const [header, ...body] = records;
  if (!header) throw new FeedbackFileError('the CSV file is empty; expected a header row');
  const columns = header.record.map((name) => name.trim().toLowerCase());
  const textColumn = options.textColumn?.trim().toLowerCase();
  if (textColumn !== undefined && !columns.includes(textColumn)) {
    throw new FeedbackFileError(
      `--text-column "${options.textColumn}" is not a column (columns: ${columns.join(', ')})`,
    );
  }
  if (!columns.includes('source') && options.defaultSource === undefined) {
    throw new FeedbackFileError('the CSV file has no "source" column; pass a default source');
  }

  for (const { info, raw, record } of body) {
    // `raw` carries the blank lines skipped before the row and its own line breaks.
    const line = info.lines - (raw.replace(/^\n+/, '').replace(/\n$/, '').split('\n').length - 1);
    if (record.length !== columns.length) {
      result.rejected.push({
        line,
        reason: `has ${record.length} columns, the header has ${columns.length}`,
      });
      continue;
    }
    const values: Record<string, string> = {};
    columns.forEach((column, i) => (values[column] = record[i]));
    if (textColumn !== undefined && !values.body) values.body = values[textColumn];
    addRow(result, line, () => feedbackFromRecord(values, options));
  }
  result.rejected.sort((a, b) => a.line - b.line);
  return result;
}

/**
 * Maps one snake_case record (a CSV row or a JSONL object) to validated feedback.
 * Empty values count as absent; `metadata` may be an object or JSON text of one.
 */
export function feedbackFromRecord(
  record: Record<string, unknown>,
  options: FeedbackFileOptions = {},
): ValidFeedback {
  const value = (field: (typeof FEEDBACK_FILE_FIELDS)[number]): unknown => {
    const v = record[field];
    return v === '' || v === null ? undefined : v;
  };
  const externalId = value('external_id');
  return validateNewFeedback({
    source: value('source') ?? options.defaultSource,
    title: value('title'),
    body: value('body'),
    createdAt: value('created_at'),
    externalId: typeof externalId === 'number' ? String(externalId) : externalId,
    rawText: value('raw_text'),
    metadata: parseMetadata(value('metadata')),
    repo: value('repo'),
    githubIssueUrl: value('github_issue_url'),
    githubIssueNumber: value('github_issue_number'),
    status: value('status'),
  });
}

function parseMetadata(metadata: unknown): unknown {
  if (typeof metadata !== 'string') return metadata;
  try {
    return JSON.parse(metadata);
  } catch {
    throw new FeedbackValidationError(['metadata is not valid JSON']);
  }
}

function addRow(result: ParsedFeedbackFile, line: number, toFeedback: () => ValidFeedback): void {
  try {
    result.rows.push({ line, feedback: toFeedback() });
  } catch (error) {
    if (!(error instanceof FeedbackValidationError)) throw error;
    result.rejected.push({ line, reason: error.message });
  }
}

/** A copy of `items` in an order fixed by `seed` (Fisher-Yates over mulberry32). */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
