import Redis from 'ioredis';
import { SharedKeys } from '../redis/keyspace';
import { StreamEntry } from './stream-entry';

/**
 * Moves events the service gave up on to `clustering:dead-letters`, with the reason.
 * The item (if any) stays in `feedback:unclustered`, so it is still counted and a sweep
 * can take it up again; the original entry id is kept for tracing.
 */
export class DeadLetters {
  constructor(private readonly redis: Redis) {}

  async add(entries: ReadonlyArray<{ entry: StreamEntry; reason: string; deliveries?: number }>) {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { entry, reason, deliveries } of entries) {
      pipeline.xadd(
        SharedKeys.deadLetters,
        'MAXLEN',
        '~',
        100_000,
        '*',
        'entry_id',
        entry.entryId,
        'feedback_id',
        entry.fields.id ?? '',
        'type',
        entry.fields.type ?? '',
        'reason',
        reason,
        'deliveries',
        String(deliveries ?? 1),
        'at',
        new Date().toISOString(),
        // The project layout's events name their project (CONTRACT §7).
        ...(entry.fields.project_id ? ['project_id', entry.fields.project_id] : []),
      );
    }
    await pipeline.exec();
  }
}
