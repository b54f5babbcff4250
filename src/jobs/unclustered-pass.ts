import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { FeedbackRepository } from '../feedback/feedback.repository';
import { UnannouncedItems } from '../feedback/unannounced-items';
import { ClusteringMetrics } from '../metrics/clustering-metrics';
import { addStats, BatchStats, emptyStats } from '../pipeline/batch-stats';
import { ClusteringPipeline } from '../pipeline/clustering-pipeline';
import { Keyspace } from '../redis/keyspace';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { JobFilters } from './job-data';
import { UNCLUSTERED_SCAN_COUNT } from './jobs.constants';

/** Filters in the form they are applied: lowercase sources, `since` in epoch ms. */
interface ItemFilter {
  sources?: ReadonlySet<string>;
  sinceMs?: number;
}

/**
 * Clusters what waits in `feedback:unclustered` (SSCAN, so ids no event announced are found
 * too), restricted by a job's filters and leaving parked items alone, in pipeline-sized
 * chunks. The pipeline decides each item's fate (clustered, missing, parked, retry). Items
 * producers wrote without even a `feedback:unclustered` entry are looked for first.
 */
@Injectable()
export class UnclusteredPass {
  private readonly logger = new Logger(UnclusteredPass.name);

  constructor(
    private readonly unannounced: UnannouncedItems,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
    private readonly pipeline: ClusteringPipeline,
    private readonly feedback: FeedbackRepository,
    private readonly metrics: ClusteringMetrics,
    private readonly env: Environment,
  ) {}

  /** Runs the pass; `onProgress` receives the running totals after each chunk. */
  async run(
    filters: JobFilters,
    onProgress: (totals: BatchStats) => Promise<void>,
  ): Promise<BatchStats> {
    const found = await this.unannounced.search();
    if (found.adopted > 0) {
      this.logger.log({ msg: 'found unannounced items', ...found });
    }
    const filter = toItemFilter(filters);
    const seen = new Set<string>();
    let totals = emptyStats();
    let chunk: string[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      const started = Date.now();
      const stats = await this.pipeline.process(chunk);
      this.metrics.batch('job', chunk.length, Date.now() - started, stats);
      totals = addStats(totals, stats);
      chunk = [];
      await onProgress(totals);
    };

    let cursor = '0';
    do {
      const [next, page] = await this.redis.sscan(
        this.keys.feedback.unclustered,
        cursor,
        'COUNT',
        UNCLUSTERED_SCAN_COUNT,
      );
      cursor = next;
      // SSCAN may return an id twice; a job offers each id once.
      const fresh = page.filter((id) => !seen.has(id));
      for (const id of fresh) seen.add(id);
      const parked = await this.feedback.parkedAmong(fresh);
      totals.parked += parked.size;
      const wanted = await this.matching(
        fresh.filter((id) => !parked.has(id)),
        filter,
      );
      for (const id of wanted) {
        chunk.push(id);
        if (chunk.length >= this.env.BATCH_MAX_ITEMS) await flush();
      }
    } while (cursor !== '0');
    await flush();
    return totals;
  }

  /** The ids whose item passes the filter; with no filter every id (missing ones included). */
  private async matching(ids: string[], filter: ItemFilter): Promise<string[]> {
    if (ids.length === 0 || (!filter.sources && filter.sinceMs === undefined)) return ids;
    const read = this.redis.pipeline();
    for (const id of ids) read.hmget(this.keys.feedback.item(id), 'source', 'created_at');
    const replies = (await read.exec()) ?? [];
    return ids.filter((_, i) => {
      const [error, values] = replies[i];
      if (error) throw error;
      const [source, createdAt] = values as (string | null)[];
      if (filter.sources && !filter.sources.has((source ?? '').trim().toLowerCase())) return false;
      if (filter.sinceMs !== undefined) {
        const created = Date.parse(createdAt ?? '');
        if (isNaN(created) || created < filter.sinceMs) return false;
      }
      return true;
    });
  }
}

function toItemFilter(filters: JobFilters): ItemFilter {
  const sources =
    filters.source === undefined
      ? undefined
      : new Set(
          (Array.isArray(filters.source) ? filters.source : [filters.source]).map((s) =>
            s.toLowerCase(),
          ),
        );
  return {
    sources,
    sinceMs: filters.since === undefined ? undefined : Date.parse(filters.since),
  };
}
