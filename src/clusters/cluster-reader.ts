import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { LiveClusters } from './live-clusters';
import { decodeCursor, encodeCursor, Page, PagePosition } from '../http/page-cursor';
import { Keyspace } from '../redis/keyspace';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { ClusterTrend, TrendReader } from '../trends/trend-reader';

export type ClusterSort = 'size' | 'recent' | 'trending';

/** A cluster hash as JSON: `size` a number, `sources` (and `centroid`) parsed. */
export type ClusterView = Record<string, unknown>;
/** A feedback hash as JSON, with `metadata` parsed. */
export type FeedbackView = Record<string, unknown>;

export interface ClusterDetail extends ClusterView {
  feedback: FeedbackView[];
  feedback_next_cursor: string | null;
  redirected_from?: string;
}

/** Longest chain of merges followed from an absorbed id to its survivor. */
const MAX_MERGE_HOPS = 16;

export interface Ranked {
  id: string;
  value: number;
}

/**
 * Reads clusters for the HTTP interface. Lists are ordered by (value desc, id asc) and paged
 * with a keyset cursor, so a page never repeats or skips a cluster because others changed.
 */
@Injectable()
export class ClusterReader {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
    private readonly trends: TrendReader,
  ) {}

  /**
   * Live clusters, largest, most recently updated or most trending first, without their
   * centroids; with `newSince` (epoch ms) only those created since.
   */
  async list(
    sort: ClusterSort,
    limit: number,
    cursor?: string,
    newSince?: number,
  ): Promise<Page<ClusterView>> {
    const ids = await new LiveClusters(this.redis, this.keys).ids();
    const read = this.redis.pipeline();
    for (const id of ids) {
      read.hmget(this.keys.clusters.cluster(id), 'size', 'updated_at', 'created_at');
    }
    const replies = (await read.exec()) ?? [];
    const rows = ids
      .map((id, i) => {
        const [error, values] = replies[i];
        if (error) throw error;
        const [size, updatedAt, createdAt] = values as (string | null)[];
        return { id, size, updatedAt, createdAt: createdAt ?? undefined };
      })
      .filter((row) => newSince === undefined || Date.parse(row.createdAt ?? '') >= newSince);
    // Trending needs every candidate's trend; the other orders only the page's.
    const trends =
      sort === 'trending' ? await this.trends.trendsOf(rows) : new Map<string, ClusterTrend>();
    const ranked = rows.map(({ id, size, updatedAt }) => {
      const value =
        sort === 'size'
          ? Number(size ?? 0)
          : sort === 'recent'
            ? Date.parse(updatedAt ?? '')
            : (trends.get(id)?.trend_score ?? 0);
      return { id, value: Number.isFinite(value) ? value : 0 };
    });
    const { page, next } = pageOf(ranked, limit, cursor);
    const hashes = await this.hashes(page.map((r) => this.keys.clusters.cluster(r.id)));
    const pageTrends =
      sort === 'trending'
        ? trends
        : await this.trends.trendsOf(hashes.map((h) => ({ id: h.id, createdAt: h.created_at })));
    const items = hashes.map((hash) => ({
      ...this.view(hash, false),
      ...pageTrends.get(hash.id),
    }));
    return { items, next_cursor: next };
  }

  /**
   * One cluster with a page of its items, newest first. A merged id answers with its
   * survivor and says so; undefined when the id is unknown.
   */
  async get(
    id: string,
    feedbackLimit: number,
    feedbackCursor?: string,
  ): Promise<ClusterDetail | undefined> {
    let resolvedId = id;
    let hash = await this.redis.hgetall(this.keys.clusters.cluster(id));
    for (let hops = 0; hash.status === 'merged' && hash.merged_into; hops++) {
      if (hops >= MAX_MERGE_HOPS) return undefined;
      resolvedId = hash.merged_into;
      hash = await this.redis.hgetall(this.keys.clusters.cluster(resolvedId));
    }
    if (Object.keys(hash).length === 0) return undefined;

    const memberIds = await this.redis.smembers(this.keys.clusters.items(resolvedId));
    const scores =
      memberIds.length === 0
        ? []
        : await this.redis.zmscore(this.keys.feedback.created, ...memberIds);
    const ranked = memberIds.map((itemId, i) => ({ id: itemId, value: Number(scores[i] ?? 0) }));
    const { page, next } = pageOf(ranked, feedbackLimit, feedbackCursor);
    const items = await this.hashes(page.map((r) => this.keys.feedback.item(r.id)));
    const trend = await this.trends.trendsOf([{ id: resolvedId, createdAt: hash.created_at }]);
    const detail: ClusterDetail = {
      ...this.view(hash, true),
      ...trend.get(resolvedId),
      feedback: items.map(feedbackView),
      feedback_next_cursor: next,
    };
    if (resolvedId !== id) detail.redirected_from = id;
    return detail;
  }

  /** The cluster's JSON; in the project layout it names its project, whoever wrote the hash. */
  private view(hash: Record<string, string>, withCentroid: boolean): ClusterView {
    const view = clusterView(hash, withCentroid);
    if (this.keys.projectId !== undefined) view.project_id = this.keys.projectId;
    return view;
  }

  /** The hashes at `keys`, in order, leaving out the ones that no longer exist. */
  private async hashes(keys: readonly string[]): Promise<Record<string, string>[]> {
    if (keys.length === 0) return [];
    const read = this.redis.pipeline();
    for (const key of keys) read.hgetall(key);
    const replies = (await read.exec()) ?? [];
    return replies
      .map(([error, hash]) => {
        if (error) throw error;
        return hash as Record<string, string>;
      })
      .filter((hash) => Object.keys(hash).length > 0);
  }
}

/** Orders by value desc, id asc; returns the page after `cursor` and the next cursor. */
export function pageOf(
  rows: Ranked[],
  limit: number,
  cursor?: string,
): { page: Ranked[]; next: string | null } {
  rows.sort((a, b) => b.value - a.value || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const after: PagePosition | undefined = cursor === undefined ? undefined : decodeCursor(cursor);
  const start = after
    ? rows.findIndex((r) => r.value < after.value || (r.value === after.value && r.id > after.id))
    : 0;
  const rest = start < 0 ? [] : rows.slice(start);
  const page = rest.slice(0, limit);
  const last = page[page.length - 1];
  return {
    page,
    next: rest.length > limit && last ? encodeCursor({ value: last.value, id: last.id }) : null,
  };
}

function clusterView(hash: Record<string, string>, withCentroid: boolean): ClusterView {
  const { centroid, ...fields } = hash;
  const view: ClusterView = {
    ...fields,
    size: Number(hash.size ?? 0),
    sources: parseJson(hash.sources, (v): v is unknown[] => Array.isArray(v)) ?? [],
  };
  if (withCentroid && centroid !== undefined) {
    view.centroid = parseJson(centroid, (v): v is unknown[] => Array.isArray(v)) ?? null;
  }
  return view;
}

/** `metadata` as an object; a value that is not a JSON object is kept as the string it is. */
function feedbackView(hash: Record<string, string>): FeedbackView {
  if (hash.metadata === undefined) return { ...hash };
  const metadata = parseJson(
    hash.metadata,
    (v): v is object => v !== null && typeof v === 'object' && !Array.isArray(v),
  );
  return { ...hash, metadata: metadata ?? hash.metadata };
}

function parseJson<T>(
  raw: string | undefined,
  accept: (value: unknown) => value is T,
): T | undefined {
  if (raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return accept(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
