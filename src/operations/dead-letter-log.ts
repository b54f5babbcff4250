import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { Page } from '../http/page-cursor';
import { Keyspace, SharedKeys } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';
import { KEYSPACE, REDIS } from '../redis/redis.module';

/** One entry of `clustering:dead-letters` as served over HTTP. */
export interface DeadLetterView {
  /** The dead letter's own entry id (what replay takes). */
  id: string;
  /** The id of the event that was given up on. */
  entry_id: string;
  feedback_id: string;
  type: string;
  reason: string;
  deliveries: number;
  at: string;
  project_id?: string;
}

export interface ReplayOutcome {
  /** Dead letters re-announced on the event stream and removed. */
  replayed: number;
  /** Dead letters kept because they name no feedback item (nothing to announce). */
  unreplayable: number;
}

/** Entries read per XRANGE while looking for one project's dead letters in the shared stream. */
const READ_CHUNK = 500;
/** Most entries one page request reads. */
const MAX_SCANNED_PER_PAGE = 10_000;

/**
 * The dead letters of one project (all of them in the flat layout): the shared stream read
 * newest first, filtered by `project_id`, and replayed through `replay-dead-letters.lua`.
 */
@Injectable()
export class DeadLetterLog {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
  ) {}

  /** Newest first; `cursor` is the id of the last entry of the previous page. */
  async list(limit: number, cursor?: string): Promise<Page<DeadLetterView>> {
    const items: DeadLetterView[] = [];
    let end = cursor === undefined ? '+' : `(${cursor}`;
    let scanned = 0;
    for (;;) {
      const chunk = await this.redis.xrevrange(
        SharedKeys.deadLetters,
        end,
        '-',
        'COUNT',
        READ_CHUNK,
      );
      for (const [id, flat] of chunk) {
        const view = deadLetterView(id, flat);
        if (!this.isOurs(view)) continue;
        if (items.length === limit) return { items, next_cursor: items[limit - 1].id };
        items.push(view);
      }
      if (chunk.length < READ_CHUNK) return { items, next_cursor: null };
      const lastRead = chunk[chunk.length - 1][0];
      scanned += chunk.length;
      // A sparse project's page stops at the scan bound; the next one resumes after it.
      if (scanned >= MAX_SCANNED_PER_PAGE) return { items, next_cursor: lastRead };
      end = `(${lastRead}`;
    }
  }

  /**
   * Re-announces the given dead letters (all of this project's when `ids` is undefined) and
   * removes them; the item is clustered again like any updated one.
   */
  async replay(ids?: readonly string[]): Promise<ReplayOutcome> {
    const outcome: ReplayOutcome = { replayed: 0, unreplayable: 0 };
    const add = async (chunk: readonly string[]) => {
      if (chunk.length === 0) return;
      const [replayed, unreplayable] = (await runScript(
        this.redis,
        'replayDeadLetters',
        [SharedKeys.deadLetters, SharedKeys.events],
        [Date.now(), ...chunk],
        this.keys,
      )) as [number, number];
      outcome.replayed += replayed;
      outcome.unreplayable += unreplayable;
    };
    if (ids !== undefined) {
      for (let i = 0; i < ids.length; i += READ_CHUNK) await add(ids.slice(i, i + READ_CHUNK));
      return outcome;
    }
    let start = '-';
    for (;;) {
      const chunk = await this.redis.xrange(
        SharedKeys.deadLetters,
        start,
        '+',
        'COUNT',
        READ_CHUNK,
      );
      await add(
        chunk
          .map(([id, flat]) => deadLetterView(id, flat))
          .filter((v) => this.isOurs(v))
          .map((v) => v.id),
      );
      if (chunk.length < READ_CHUNK) return outcome;
      start = `(${chunk[chunk.length - 1][0]}`;
    }
  }

  private isOurs(view: DeadLetterView): boolean {
    return view.project_id === this.keys.projectId;
  }
}

function deadLetterView(id: string, flat: string[]): DeadLetterView {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  const view: DeadLetterView = {
    id,
    entry_id: fields.entry_id ?? '',
    feedback_id: fields.feedback_id ?? '',
    type: fields.type ?? '',
    reason: fields.reason ?? '',
    deliveries: Number(fields.deliveries ?? 1),
    at: fields.at ?? '',
  };
  if (fields.project_id) view.project_id = fields.project_id;
  return view;
}
