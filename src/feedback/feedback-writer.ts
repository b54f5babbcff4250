import { randomUUID } from 'node:crypto';
import type { Redis, Result } from 'ioredis';
import { SharedKeys, Keyspace } from '../redis/keyspace';
import { defineScripts } from '../redis/lua-scripts';

/** A feedback item to write, in the shape producers hand it over (CONTRACT §1, camelCase). */
export interface NewFeedback {
  /** A lowercase word such as `reddit` or `sentry`; case is normalised. */
  source: string;
  title?: string;
  body?: string;
  /** ISO 8601 with offset (or a Date); now when absent. */
  createdAt?: string | Date;
  /** Id in the source system; a second item with the same source and external id is not created. */
  externalId?: string;
  rawText?: string;
  metadata?: Record<string, unknown>;
  /** `owner/name` of a GitHub repository. */
  repo?: string;
  githubIssueUrl?: string;
  githubIssueNumber?: number | string;
  status?: 'open' | 'closed';
}

export interface WriteOptions {
  /** `false` writes like producers older than the contract: everything but the stream event. */
  emitEvent?: boolean;
}

export interface WriteManyOptions extends WriteOptions {
  /** Writes sent per pipeline round trip. */
  batchSize?: number;
}

export interface WriteResult {
  id: string;
  /** `false` when the external id was already known and `id` is the existing item. */
  created: boolean;
}

/** One input of `writeMany`: written (or recognised as a duplicate), or rejected with the reason. */
export type WriteManyOutcome =
  ({ ok: true } & WriteResult) | { ok: false; error: FeedbackValidationError };

/** A NewFeedback after validation: every value in the form it is stored in. */
export type ValidFeedback = Omit<NewFeedback, 'createdAt' | 'githubIssueNumber'> & {
  createdAt?: string;
  githubIssueNumber?: string;
};

/** A feedback input that cannot be written; `message` says which field is wrong and why. */
export class FeedbackValidationError extends Error {
  constructor(readonly reasons: string[]) {
    super(reasons.join('; '));
    this.name = 'FeedbackValidationError';
  }
}

const SOURCE_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
const REPO_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
/** Date and time with seconds and an explicit offset, e.g. `2024-05-01T10:00:00Z` or `...+02:00`. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DEFAULT_BATCH_SIZE = 500;

/**
 * Checks an input from any origin (TS caller, JSONL, CSV) and returns it normalised:
 * source lowercased, the issue number a decimal string, created_at an ISO string.
 * Throws FeedbackValidationError listing every problem.
 */
export function validateNewFeedback(input: unknown): ValidFeedback {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new FeedbackValidationError(['feedback must be an object']);
  }
  const raw = input as Record<string, unknown>;
  const reasons: string[] = [];
  const optionalString = (field: keyof NewFeedback, name: string): string | undefined => {
    const value = raw[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      reasons.push(`${name} must be a string`);
      return undefined;
    }
    return value;
  };

  let source = '';
  if (typeof raw.source !== 'string' || raw.source.trim() === '') {
    reasons.push('source is required');
  } else {
    source = raw.source.trim().toLowerCase();
    if (!SOURCE_PATTERN.test(source)) {
      reasons.push(
        `source "${raw.source}" must be one word of letters, digits, "-" or "_" (e.g. reddit)`,
      );
    }
  }

  const title = optionalString('title', 'title') ?? '';
  const body = optionalString('body', 'body') ?? '';
  if (title.trim() === '' && body.trim() === '') reasons.push('title and body are both empty');

  const createdAt = normaliseCreatedAt(raw.createdAt, reasons);

  const externalId = optionalString('externalId', 'external_id')?.trim();
  if (externalId === '') reasons.push('external_id is empty');

  const metadata = raw.metadata;
  if (
    metadata !== undefined &&
    metadata !== null &&
    (typeof metadata !== 'object' || Array.isArray(metadata))
  ) {
    reasons.push('metadata must be a JSON object');
  }

  const repo = optionalString('repo', 'repo')?.trim();
  if (repo !== undefined && !REPO_PATTERN.test(repo)) {
    reasons.push(`repo "${repo}" must be owner/name`);
  }

  const githubIssueUrl = optionalString('githubIssueUrl', 'github_issue_url')?.trim();
  if (githubIssueUrl !== undefined && !/^https?:\/\/\S+$/.test(githubIssueUrl)) {
    reasons.push(`github_issue_url "${githubIssueUrl}" must be an http(s) URL`);
  }

  let githubIssueNumber: string | undefined;
  const issueNumber = raw.githubIssueNumber;
  if (issueNumber !== undefined && issueNumber !== null) {
    const text = typeof issueNumber === 'number' ? String(issueNumber) : issueNumber;
    if (typeof text === 'string' && /^[1-9]\d*$/.test(text.trim())) githubIssueNumber = text.trim();
    else
      reasons.push(`github_issue_number ${JSON.stringify(issueNumber)} must be a positive integer`);
  }

  const status = optionalString('status', 'status')?.trim().toLowerCase();
  if (status !== undefined && status !== 'open' && status !== 'closed') {
    reasons.push(`status "${status}" must be open or closed`);
  }

  if (reasons.length > 0) throw new FeedbackValidationError(reasons);
  return dropUndefined({
    source,
    title,
    body,
    createdAt,
    externalId,
    rawText: optionalString('rawText', 'raw_text'),
    metadata: (metadata ?? undefined) as Record<string, unknown> | undefined,
    repo,
    githubIssueUrl,
    githubIssueNumber,
    status: status as ValidFeedback['status'],
  });
}

function normaliseCreatedAt(value: unknown, reasons: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) {
    if (isNaN(value.getTime())) reasons.push('created_at is an invalid date');
    else return value.toISOString();
    return undefined;
  }
  if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value.trim())) {
    reasons.push(
      `created_at ${JSON.stringify(value)} must be ISO 8601 with an offset, e.g. 2024-05-01T10:00:00Z`,
    );
    return undefined;
  }
  // Kept as given (with the producer's own offset); only impossible dates are refused.
  if (isNaN(Date.parse(value.trim()))) {
    reasons.push(`created_at "${value}" is not a real date`);
    return undefined;
  }
  return value.trim();
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

// The write itself is `src/redis/lua/write-feedback.lua` (why a script and not MULTI: see there).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    writeFeedback(numKeys: number, ...keysAndArgs: string[]): Result<[string, number], Context>;
  }
}

/** The fields of a `feedback.updated` event (with `project_id` in the project layout). */
function updatedEvent(id: string, projectId: string | undefined): string[] {
  const fields = ['type', 'feedback.updated', 'id', id, 'ts', String(Date.now())];
  return projectId === undefined ? fields : [...fields, 'project_id', projectId];
}

/** Writes feedback the way the contract's producers do; used by the CLI, the demo, tests and benchmarks. */
export class FeedbackWriter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {
    defineScripts(redis);
  }

  /** Writes one item. Throws FeedbackValidationError for an invalid input. */
  async write(input: NewFeedback, options: WriteOptions = {}): Promise<WriteResult> {
    const [id, created] = await this.redis.writeFeedback(
      ...this.commandArgs(validateNewFeedback(input), options),
    );
    return { id, created: created === 1 };
  }

  /**
   * Writes many items, pipelined in batches. Invalid inputs are reported, not thrown, so one bad
   * row never stops the others; outcomes are in input order.
   */
  async writeMany(
    inputs: readonly NewFeedback[],
    options: WriteManyOptions = {},
  ): Promise<WriteManyOutcome[]> {
    const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
    const outcomes: WriteManyOutcome[] = [];
    for (let start = 0; start < inputs.length; start += batchSize) {
      outcomes.push(...(await this.writeBatch(inputs.slice(start, start + batchSize), options)));
    }
    return outcomes;
  }

  /**
   * Changes an item's text as a producer does (CONTRACT §1 "Updates"), in one MULTI: the hash
   * re-written with `clustered` "false" (and without the service's `cluster_id` and
   * `clustered_at`, as a producer that re-writes the whole hash leaves it), the id back in
   * `feedback:unclustered`, a `feedback.updated` event.
   */
  async update(id: string, text: { title: string; body: string }): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.feedback.item(id), { title: text.title, body: text.body, clustered: 'false' })
      .hdel(this.keys.feedback.item(id), 'cluster_id', 'clustered_at')
      .sadd(this.keys.feedback.unclustered, id)
      .xadd(SharedKeys.events, '*', ...updatedEvent(id, this.keys.projectId))
      .exec();
  }

  private async writeBatch(
    inputs: readonly NewFeedback[],
    options: WriteOptions,
  ): Promise<WriteManyOutcome[]> {
    const outcomes: WriteManyOutcome[] = new Array<WriteManyOutcome>(inputs.length);
    const pipeline = this.redis.pipeline();
    const queued: number[] = [];
    inputs.forEach((input, index) => {
      try {
        pipeline.writeFeedback(...this.commandArgs(validateNewFeedback(input), options));
        queued.push(index);
      } catch (error) {
        if (!(error instanceof FeedbackValidationError)) throw error;
        outcomes[index] = { ok: false, error };
      }
    });
    if (queued.length > 0) {
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([error, reply], position) => {
        if (error) throw error;
        const [id, created] = reply as [string, number];
        outcomes[queued[position]] = { ok: true, id, created: created === 1 };
      });
    }
    return outcomes;
  }

  private commandArgs(feedback: ValidFeedback, options: WriteOptions): [number, ...string[]] {
    const id = randomUUID();
    const createdAt = feedback.createdAt ?? new Date().toISOString();
    const score = Math.floor(Date.parse(createdAt) / 1000);
    const fields: Record<string, string | undefined> = {
      id,
      project_id: this.keys.projectId,
      source: feedback.source,
      title: feedback.title ?? '',
      body: feedback.body ?? '',
      created_at: createdAt,
      clustered: 'false',
      external_id: feedback.externalId,
      raw_text: feedback.rawText,
      metadata: feedback.metadata === undefined ? undefined : JSON.stringify(feedback.metadata),
      repo: feedback.repo,
      github_issue_url: feedback.githubIssueUrl,
      github_issue_number: feedback.githubIssueNumber,
      status: feedback.status,
    };
    const keys = [
      this.keys.feedback.item(id),
      this.keys.feedback.created,
      this.keys.feedback.bySource(feedback.source),
      this.keys.feedback.unclustered,
      SharedKeys.events,
    ];
    if (feedback.externalId !== undefined) {
      keys.push(this.keys.feedback.external(feedback.source, feedback.externalId));
    }
    const emit = options.emitEvent === false ? '0' : '1';
    const hashArgs = Object.entries(fields).flatMap(([field, value]) =>
      value === undefined ? [] : [field, value],
    );
    const project = this.keys.projectId ?? '';
    return [
      keys.length,
      ...keys,
      id,
      String(score),
      emit,
      String(Date.now()),
      project,
      ...hashArgs,
    ];
  }
}
