import { ConfigurationError } from '../../config/environment';
import { Logger } from '@nestjs/common';
import { Index, Requester } from '@upstash/vector';
import Redis from 'ioredis';
import { ClusterState } from '../../ports/cluster-state';
import { ClusterStateStore } from '../../clusters/cluster-state.store';
import { cosine } from '../../math/vector-math';
import { DistributedLock } from '../../redis/distributed-lock';
import { Keyspace } from '../../redis/keyspace';
import { CandidateProposals, ClusterCandidate, VectorIndex } from '../../ports/vector-index.port';
import { NO_PROVIDER_METRICS, ProviderMetrics } from '../provider-metrics';
import { ProviderReadiness } from '../../ports/provider-readiness';
import {
  ProviderError,
  ResilienceOptions,
  ResilientCaller,
  isTransientStatus,
  parseRetryAfterHeader,
  resilienceWithDefaults,
} from '../resilient-call';

/**
 * Namespaces of the Upstash index: item vectors and cluster centroids are kept apart, so a
 * centroid query never returns an item and the two can be rebuilt independently.
 */

const READY_WITHIN_MS = 60_000;
const SYNC_LOCK_TTL_MS = 30_000;
/** A failed centroid sync is tried again this much later, traffic or not. */
const SYNC_RETRY_MS = 5_000;

export interface UpstashVectorIndexOptions extends Partial<ResilienceOptions> {
  /** `UPSTASH_VECTOR_REST_URL`. */
  url: string;
  /** `UPSTASH_VECTOR_REST_TOKEN`. */
  token: string;
  /** The embedder's model name: only its clusters are candidates. */
  model: string;
  /** The embedder's dimensions; the Upstash index must have the same. */
  dimensions: number;
  /** Nearest centroids asked of Upstash per wanted candidate, before the exact re-rank; default 3. */
  oversample?: number;
  /** How long a synced centroid is still searched in memory, while Upstash makes it visible; default 30 s. */
  recentWindowMs?: number;
  /** Vectors per upsert/delete request, and clusters per sync page; default 500. */
  batchSize?: number;
  /** Sync pages per call, so a backfill never holds up one batch for long; default 4. */
  syncPagesPerCall?: number;
  metrics?: ProviderMetrics;
}

const DEFAULT_RESILIENCE: ResilienceOptions = {
  timeoutMs: 10_000,
  maxRetries: 3,
  backoffBaseMs: 200,
  backoffMaxMs: 10_000,
  breakerThreshold: 5,
  breakerHalfOpenMs: 15_000,
};

/** A cluster seen in the change feed: searched in memory until Upstash surely shows it. */
interface RecentCluster {
  state: ClusterState;
  /** The feed position it was read at; it is in Upstash once the sync cursor reaches this. */
  seq: number;
  /** When this replica learnt it was synced; it stays searchable here for the window after. */
  syncedAt?: number;
}

/**
 * Vector index on Upstash Vector (cosine), mirroring the cluster state the persist stage
 * keeps in Redis. Upstash only proposes candidates; their state is loaded from Redis, so the
 * assigner's exact re-rank works on authoritative centroids.
 *
 * Centroids reach Upstash through a sync that follows the change feed from a cursor kept in
 * Redis (`clustering:upstash:…:synced-seq`), so a change is pushed even if the replica that
 * made it died first. Upstash indexes upserts eventually, not at once: every cluster changed
 * since the cursor, and for `recentWindowMs` after it was synced, is also searched exactly in
 * memory and merged into each query's candidates.
 */
export class UpstashVectorIndex implements VectorIndex {
  readonly name = 'upstash';
  private readonly logger = new Logger(UpstashVectorIndex.name);
  private readonly index: Index;
  private readonly caller: ResilientCaller;
  private readonly metrics: ProviderMetrics;
  private readonly recent = new Map<string, RecentCluster>();
  private readonly cursorKey: string;
  private readonly syncLock: DistributedLock;
  private seq: number | undefined;
  private synced = 0;
  private centroidCount = 0;
  /** Whether the index's dimensions and metric were confirmed (start-up waits for Upstash). */
  private verified = false;
  /** Every live centroid in Redis, kept up to date only while Upstash is unavailable. */
  private everything?: { seq: number; states: Map<string, ClusterState> };
  private syncing?: Promise<void>;
  private syncAgain = false;

  /** This project's namespaces of the index (a project's own pair in the project layout). */
  private readonly namespaces: { items: string; centroids: string };

  constructor(
    private readonly store: ClusterStateStore,
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly options: UpstashVectorIndexOptions,
  ) {
    const resilience = resilienceWithDefaults(DEFAULT_RESILIENCE, options);
    this.index = new Index(new UpstashRequester(options.url, options.token, resilience.timeoutMs));
    this.metrics = options.metrics ?? NO_PROVIDER_METRICS;
    this.caller = new ResilientCaller('upstash', resilience, this.metrics);
    // Per Upstash index and model: a new index (or model) starts its sync from scratch.
    const scope = `${new URL(options.url).host}:${options.model}`;
    this.namespaces = {
      items: keys.vectorNamespace('items'),
      centroids: keys.vectorNamespace('centroids'),
    };
    this.cursorKey = keys.service.upstashSyncedSeq(scope);
    this.syncLock = new DistributedLock(
      redis,
      keys.service.upstashSyncLock(scope),
      SYNC_LOCK_TTL_MS,
    );
  }

  /** Live clusters in the centroids namespace, as of the last `info` call (start-up, readiness). */
  size(): number {
    return this.centroidCount;
  }

  /**
   * Start-up check, repeated until Upstash answers: a mismatch (dimensions, metric) throws a
   * ConfigurationError at once; while Upstash cannot be reached the replica is not ready and
   * candidates come from the centroids in Redis. Resolves once the index is confirmed.
   */
  async verifyWhenReachable(retryMs = 2_000): Promise<void> {
    for (;;) {
      try {
        await this.verifyDimensions();
        return;
      } catch (error) {
        if (error instanceof ConfigurationError) throw error;
        this.logger.warn(
          `Upstash not reachable at start-up, retrying: ${this.caller.describe(error)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
      }
    }
  }

  /** Start-up check: the index must be cosine with the embedder's dimensions. */
  async verifyDimensions(): Promise<void> {
    const info = await this.caller.run('info', () => this.index.info());
    const { dimensions, model } = this.options;
    if (info.dimension !== dimensions) {
      throw new ConfigurationError(
        `Upstash Vector index has ${info.dimension} dimensions, but the embedder ${model} makes ` +
          `${dimensions}-dimensional vectors: use an index with ${dimensions} dimensions ` +
          `(UPSTASH_VECTOR_REST_URL) or an embedder with ${info.dimension} (EMBEDDING_DIMENSIONS)`,
      );
    }
    if (info.similarityFunction !== 'COSINE') {
      throw new ConfigurationError(
        `Upstash Vector index uses ${info.similarityFunction} similarity; the clustering service needs COSINE`,
      );
    }
    this.centroidCount = info.namespaces[this.namespaces.centroids]?.vectorCount ?? 0;
    if (this.centroidCount === 0) {
      // An empty (new or reset) index: whatever the cursor says, push every centroid again.
      await this.redis.del(this.cursorKey);
    }
    this.verified = true;
  }

  async refresh(): Promise<void> {
    if (this.seq === undefined) {
      // Everything up to the cursor is in Upstash already; only later changes are read.
      this.seq = await this.readCursor();
      this.synced = this.seq;
    }
    // Redis only (it runs under the assignment lock): the sync to Upstash runs outside it.
    const feed = await this.store.changesSince(this.seq, this.options.model);
    if (feed.reset) {
      // Redis lost its data: the shared cursor points past the new feed, so every live
      // centroid is pushed again (stale ones in Upstash are filtered out when loaded).
      this.recent.clear();
      this.synced = 0;
      await this.redis.del(this.cursorKey);
    }
    for (const id of feed.removedIds) this.recent.delete(id);
    for (const state of feed.live) this.recent.set(state.id, { state, seq: feed.seq });
    this.seq = feed.seq;
    // Changes of a replica that died before pushing them; not awaited (this runs under the lock).
    this.syncInBackground();
  }

  /** Pushes the changes (read back from the feed, with everyone else's) to Upstash, in the background. */
  async clustersChanged(
    changed: readonly ClusterState[],
    removedIds: readonly string[],
  ): Promise<void> {
    for (const id of removedIds) this.recent.delete(id);
    // Searchable here at once, whatever the feed position; synced by the next sync.
    const pending = Number.MAX_SAFE_INTEGER;
    for (const state of changed) this.recent.set(state.id, { state, seq: pending });
    this.syncInBackground();
  }

  /** One sync at a time; a slow or failing Upstash never holds up a batch. */
  private syncInBackground(): void {
    if (this.syncing) {
      // Changes may have come after the sync in flight read the feed: go round once more.
      this.syncAgain = true;
      return;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        await this.syncQuietly();
      } while (this.syncAgain);
    })().finally(() => (this.syncing = undefined));
  }

  /** Resolves once no background sync is in flight (for callers that need Upstash up to date). */
  async settled(): Promise<void> {
    await this.syncing;
  }

  /** Upstash's nearest centroids per query, asked outside the assignment lock. */
  async propose(queries: readonly Float32Array[], k: number): Promise<CandidateProposals> {
    if (queries.length === 0) return [];
    const topK = this.topK(k);
    try {
      const hits = await this.caller.run('query', () =>
        this.index.queryMany(
          queries.map((query) => ({ vector: Array.from(query), topK, includeVectors: false })),
          { namespace: this.namespaces.centroids },
        ),
      );
      return queries.map((_, i) => (hits[i] ?? []).map((hit) => String(hit.id)));
    } catch (error) {
      this.logger.warn(
        `Upstash query failed, searching the centroids in Redis exactly: ${this.caller.describe(error)}`,
      );
      this.metrics.fallback('upstash', 'query', 'unavailable');
      return 'unavailable';
    }
  }

  async candidates(
    queries: readonly Float32Array[],
    k: number,
    proposals?: CandidateProposals,
  ): Promise<ClusterCandidate[][]> {
    if (queries.length === 0) return [];
    const proposed = proposals ?? (await this.propose(queries, k));
    const topK = this.topK(k);
    if (proposed === 'unavailable') {
      const all = [...(await this.everyCentroid()).values()];
      return queries.map((query) => nearestExactly(query, all, topK));
    }
    this.everything = undefined;
    const ids = [...new Set(proposed.flat())];
    const { live } = await this.store.load(ids, this.options.model);
    const loaded = new Map(live.map((state) => [state.id, state]));
    this.expireRecent();
    const recent = [...this.recent.values()].map((entry) => entry.state);
    return queries.map((query, i) => {
      const found = new Map<string, ClusterState>();
      for (const id of proposed[i] ?? []) {
        const state = loaded.get(id);
        if (state) found.set(state.id, state);
      }
      for (const state of nearestExactly(query, recent, topK)) {
        if (!found.has(state.id)) found.set(state.id, state);
      }
      return [...found.values()];
    });
  }

  private topK(k: number): number {
    return Math.max(1, k * (this.options.oversample ?? 3));
  }

  /** All live centroids of the model, from Redis: loaded once per outage, then followed by the feed. */
  private async everyCentroid(): Promise<Map<string, ClusterState>> {
    const from = this.everything?.seq ?? 0;
    const states = this.everything?.states ?? new Map<string, ClusterState>();
    const feed = await this.store.changesSince(from, this.options.model);
    for (const id of feed.removedIds) states.delete(id);
    for (const state of feed.live) states.set(state.id, state);
    this.everything = { seq: feed.seq, states };
    return states;
  }

  /** Stores item vectors in the `items` namespace (opt-in, UPSTASH_STORE_ITEM_VECTORS: nothing reads them). */
  async upsertItems(items: ReadonlyArray<{ id: string; vector: Float32Array }>): Promise<void> {
    const namespace = this.index.namespace(this.namespaces.items);
    for (const chunk of chunks(items, this.batchSize)) {
      await this.caller.run('upsert_items', () =>
        namespace.upsert(chunk.map(({ id, vector }) => ({ id, vector: Array.from(vector) }))),
      );
    }
  }

  /** Ready when a call succeeded in the last minute, or `info` answers now. */
  async checkReady(): Promise<ProviderReadiness> {
    if (!this.verified) {
      return { ok: false, detail: 'upstash: waiting for the index to answer at start-up' };
    }
    if (this.caller.circuitOpen) {
      return { ok: false, detail: 'upstash: circuit open after repeated failures' };
    }
    if (this.caller.succeededRecently(READY_WITHIN_MS)) {
      return { ok: true, detail: 'upstash: answered within the last minute' };
    }
    try {
      const info = await this.caller.run('info', () => this.index.info());
      this.centroidCount = info.namespaces[this.namespaces.centroids]?.vectorCount ?? 0;
      return { ok: true, detail: `upstash: ${this.centroidCount} centroids` };
    } catch (error) {
      return { ok: false, detail: this.caller.describe(error) };
    }
  }

  private get batchSize(): number {
    return Math.max(1, this.options.batchSize ?? 500);
  }

  /** A failed sync is retried shortly (and by the next batch); meanwhile the changes are searched in memory. */
  private async syncQuietly(): Promise<void> {
    try {
      await this.sync();
    } catch (error) {
      this.logger.warn(`centroid sync to Upstash postponed: ${this.caller.describe(error)}`);
      setTimeout(() => this.syncInBackground(), SYNC_RETRY_MS).unref();
    }
  }

  /**
   * Pushes changes after the shared cursor, a page at a time, then advances the cursor. One
   * replica syncs at a time (a lock, kept while slow Upstash calls run); the others rely on
   * its progress.
   */
  private async sync(): Promise<void> {
    await this.syncLock.runIfFree((lease) => this.pushPages(lease.token));
    this.synced = Math.max(this.synced, await this.readCursor());
  }

  private async pushPages(token: string): Promise<void> {
    const centroids = this.index.namespace(this.namespaces.centroids);
    let cursor = await this.readCursor();
    for (let page = 0; page < (this.options.syncPagesPerCall ?? 4); page++) {
      const entries = await this.redis.zrangebyscore(
        this.keys.service.indexChanges,
        `(${cursor}`,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        0,
        this.batchSize,
      );
      if (entries.length === 0) return;
      const ids = entries.filter((_, i) => i % 2 === 0);
      const { live, removedIds } = await this.store.load(ids, this.options.model);
      if (live.length > 0) {
        await this.caller.run('upsert_centroids', () =>
          centroids.upsert(
            live.map((state) => ({
              id: state.id,
              vector: Array.from(state.centroid),
              metadata: { model: this.options.model },
            })),
          ),
        );
      }
      if (removedIds.length > 0) {
        await this.caller.run('delete_centroids', () => centroids.delete(removedIds));
      }
      cursor = Number(entries[entries.length - 1]);
      await this.redis.eval(ADVANCE_IF_HELD, 2, this.cursorKey, this.syncLock.key, cursor, token);
      // What this replica pushed is visible to it from now on, through the recent set.
      const now = Date.now();
      for (const state of live) this.recent.set(state.id, { state, seq: cursor, syncedAt: now });
    }
  }

  private async readCursor(): Promise<number> {
    return Number((await this.redis.get(this.cursorKey)) ?? 0);
  }

  /** Drops clusters that are synced and have had the window to become visible in Upstash. */
  private expireRecent(): void {
    const now = Date.now();
    const window = this.options.recentWindowMs ?? 30_000;
    for (const [id, entry] of this.recent) {
      if (entry.seq > this.synced) continue;
      entry.syncedAt ??= now;
      if (now - entry.syncedAt > window) this.recent.delete(id);
    }
  }
}

/** Moves the cursor forward (never back), only while the sync lock is held. */
const ADVANCE_IF_HELD = `
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1`;

/** The `topK` states nearest to `query` by exact cosine. */
function nearestExactly(
  query: Float32Array,
  states: readonly ClusterState[],
  topK: number,
): ClusterState[] {
  return states
    .map((state) => ({ state, similarity: cosine(query, state.centroid) }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, topK)
    .map(({ state }) => state);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    out.push(items.slice(start, start + size));
  return out;
}

/**
 * The HTTP transport for the Upstash SDK. The SDK's own client drops the status code and
 * headers of a failed request; this one keeps them, so that 429 and 5xx are retried (after
 * the `Retry-After` delay) and 4xx are not, and it aborts a request after `timeoutMs`.
 */
export class UpstashRequester implements Requester {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
  }

  async request<TResult>(
    req: Parameters<Requester['request']>[0],
  ): Promise<{ result?: TResult; error?: string }> {
    let response: Response;
    // As Upstash documents them: GET /info, DELETE /delete[/{namespace}], POST for the rest.
    const command = req.path?.[0]?.split('/')[0];
    const method = command === 'info' ? 'GET' : command === 'delete' ? 'DELETE' : 'POST';
    try {
      response = await fetch([this.baseUrl, ...(req.path ?? [])].join('/'), {
        method,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        ...(method === 'GET' ? {} : { body: JSON.stringify(req.body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new ProviderError('network error', true, undefined, { cause: error });
    }
    const text = await response.text();
    let body: { result?: TResult; error?: string } | undefined;
    try {
      body = JSON.parse(text) as { result?: TResult; error?: string };
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      throw new ProviderError(
        `HTTP ${response.status}: ${body?.error ?? text.slice(0, 200)}`,
        isTransientStatus(response.status),
        parseRetryAfterHeader(response.headers.get('retry-after')),
      );
    }
    if (!body) throw new ProviderError('response is not valid JSON', false);
    return body;
  }
}
