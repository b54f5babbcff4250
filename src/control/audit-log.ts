import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { Keyspace } from '../redis/keyspace';
import { KEYSPACE, REDIS } from '../redis/redis.module';

/** Records kept per project (approximately: the stream is trimmed with `MAXLEN ~`). */
export const AUDIT_MAX_LEN = 10_000;

/** A person's action as recorded in the audit stream (written by `lua/includes/control.lua`). */
export interface AuditRecord {
  /** The stream entry id: time-ordered, a cursor. */
  id: string;
  action: string;
  at: string;
  /** Where the items are afterwards (the survivor, the new cluster, the target). */
  cluster_id: string;
  from_cluster_id: string;
  moved_items: number;
  item_ids?: readonly string[];
}

export interface AuditPage {
  items: AuditRecord[];
  next_cursor: string | null;
}

/** The audit stream (`clustering:audit`, per project in the project layout), newest first. */
@Injectable()
export class AuditLog {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
  ) {}

  /** A record as stream fields (field, value, ...), for the script that writes it. */
  static fields(record: Omit<AuditRecord, 'id'>): string[] {
    const { item_ids: itemIds, ...scalars } = record;
    const fields = Object.entries(scalars).flatMap(([field, value]) => [field, String(value)]);
    return itemIds ? [...fields, 'item_ids', JSON.stringify(itemIds)] : fields;
  }

  /** Up to `limit` records older than `cursor` (the `next_cursor` of a previous page). */
  async list(limit: number, cursor?: string): Promise<AuditPage> {
    const entries = await this.redis.xrevrange(
      this.keys.service.audit,
      cursor ? `(${cursor}` : '+',
      '-',
      'COUNT',
      limit + 1,
    );
    const items = entries.slice(0, limit).map(([id, flat]) => parseRecord(id, flat));
    return { items, next_cursor: entries.length > limit ? items[items.length - 1].id : null };
  }
}

function parseRecord(id: string, flat: string[]): AuditRecord {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i], flat[i + 1]);
  const itemIds = f.get('item_ids');
  return {
    id,
    action: f.get('action') ?? '',
    at: f.get('at') ?? '',
    cluster_id: f.get('cluster_id') ?? '',
    from_cluster_id: f.get('from_cluster_id') ?? '',
    moved_items: Number(f.get('moved_items') ?? 0),
    ...(itemIds !== undefined && { item_ids: JSON.parse(itemIds) as string[] }),
  };
}
