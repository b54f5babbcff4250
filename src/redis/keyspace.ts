/**
 * Every Redis key the service reads or writes, in one place, for both key layouts
 * (CONTRACT §1-§2 flat, §7 project-scoped). Names outside `clustering:` come from the contract
 * and are not ours to change. Lua scripts build no key names of their own: they get keys
 * through KEYS and, for keys named after an item or cluster id, the layout's prefixes through
 * the descriptor `Keyspace.lua` (read by `lua/includes/keyspace.lua`).
 */

/** `flat`: one project, the keys of CONTRACT §1-§2. `project`: CONTRACT §7. */
export type KeyLayout = 'flat' | 'project';

/** Keys shared by every project of a deployment (one stream, one job queue, one quota). */
export const SharedKeys = {
  /** The producers' event stream; in the project layout entries carry `project_id`. */
  events: 'feedback:events',
  /** Stream on which jobs (on demand and scheduled sweeps) are dispatched to replicas. */
  jobStream: 'clustering:jobs',
  /** Stream of events given up on, with their reason (and project, in the project layout). */
  deadLetters: 'clustering:dead-letters',
  /**
   * Hash: stream entry id -> attempts that failed because of the item itself (the entry
   * processed alone, and the failure not an outage). Unlike XPENDING's delivery count, which
   * every read bumps, only these count towards MAX_DELIVERIES.
   */
  streamItemFailures: 'clustering:stream:item-failures',
  /** Hash {tokens, at}: the deployment-wide token bucket of model summary calls (one API key). */
  summaryTokens: 'clustering:summaries:tokens',
  /** Marks a sweep schedule tick as taken by one replica. */
  sweepTick: (second: number) => `clustering:sweep:tick:${second}`,
  /** Set of the projects the service has seen (project layout), for discovery without SCAN. */
  projects: 'clustering:projects',
} as const;

/** What Lua scripts need to name item and cluster keys (see `lua/includes/keyspace.lua`). */
interface LuaKeyspace {
  item: string;
  cluster: string;
  members: [string, string];
  sortedLive: boolean;
  project: string;
  /** Prefix of the per-cluster trend hashes, and the project's arrivals hash (see serviceKeys). */
  trends: string;
  arrivals: string;
}

function serviceKeys(prefix: string) {
  return {
    /** Serialises cluster assignment across replicas (fenced by its token). */
    assignLock: `${prefix}lock:assign`,
    /** A replica's short claim on a project while it clusters one batch of it (project layout). */
    workerLock: `${prefix}lock:worker`,
    /** The lock that lets one sweep run at a time. */
    sweepLock: `${prefix}lock:sweep`,
    /** Monotonic counter bumped on every centroid change; replicas use it to catch up. */
    indexSeq: `${prefix}index:seq`,
    /** Sorted set: cluster id -> sequence number of its latest centroid change. */
    indexChanges: `${prefix}index:changes`,
    /**
     * Hash written by earlier versions (packed float32 centroids): no longer written or read
     * (the cluster hash's `centroid` is the only copy); scripts delete entries, sweeps the key.
     */
    centroids: `${prefix}index:centroids`,
    /** Highest sequence number of a pruned change-feed entry: readers behind it read it all. */
    indexPrunedSeq: `${prefix}index:pruned-seq`,
    /** Hash: pruning cursors of the sweeps' key pruner (parked, summaries, changes). */
    pruneCursors: `${prefix}prune:cursors`,
    /** Hash: cluster id -> int8 record of its anchor (the vector the cluster was founded on). */
    anchors: `${prefix}index:anchors`,
    /**
     * Hash: feedback id -> 6-bit record of its vector (src/item-vectors/vector-record.ts); only
     * for embedders whose vectors are not recomputed from text (ITEM_VECTORS).
     */
    itemVectors: `${prefix}vectors:items`,
    /**
     * Hash written by earlier versions (a model name per item vector): the vectors carry a
     * fingerprint of their model now; scripts delete entries, sweeps the key.
     */
    itemModels: `${prefix}vectors:models`,
    /**
     * Change-feed sequence number up to which sweeps examined clusters; advanced step by step,
     * so an interrupted sweep resumes there.
     */
    sweepCursor: `${prefix}sweep:seq`,
    /**
     * Hash: feedback id -> the cluster the service put it in. Lets an update find the cluster
     * the item leaves even when its producer re-wrote the hash without `cluster_id`.
     */
    membership: `${prefix}membership`,
    /** Hash: cluster id -> size at which it was last summarised. */
    summarizedAt: `${prefix}summaries:size`,
    /** Sorted set: cluster id -> priority (size plus growth since its summary). */
    summaryQueue: `${prefix}summaries:queue`,
    /** Sorted set: cluster id -> epoch ms at which a replica's claim on its entry lapses. */
    summaryClaims: `${prefix}summaries:claims`,
    /** Hash: feedback id -> JSON {reason, at} for items parked as unprocessable. */
    parked: `${prefix}parked`,
    /** Sorted set: running job id -> epoch ms of its owner's last heartbeat (progress write). */
    jobHeartbeats: `${prefix}jobs:heartbeats`,
    /** Hash: feedback id -> failed embedding attempts, for backoff. */
    embedFailures: `${prefix}embed-failures`,
    /** Sorted set: feedback id -> epoch ms before which it is not retried. */
    retryAfter: `${prefix}embed-retry-after`,
    /**
     * Hash: how far the search for unannounced items got in `feedback:created`: `watermark`
     * (the highest score examined) and `rescan` (rank of the slow full-coverage cursor).
     */
    unannounced: `${prefix}unannounced`,
    /** Hash per embedding model: `sum` (packed float64 sum of its unit item vectors), `count`. */
    calibration: (model: string) => `${prefix}calibration:${model}`,
    /** Set: clusters the re-embedder finished for a model (it resumes after them). */
    reembedDone: (model: string) => `${prefix}reembed:done:${model}`,
    /** Capped stream: one record per human action (merge, split, move; src/control). */
    audit: `${prefix}audit`,
    /** Hash: feedback id -> the cluster a person put it in; sweeps never move it. */
    pinnedItems: `${prefix}pins:items`,
    /** Hash: cluster id -> JSON array of the clusters a person split it from; never merged. */
    keptApart: `${prefix}pins:apart`,
    /** Upstash sync state of one index scope: the change-feed sequence pushed, its lock. */
    upstashSyncedSeq: (scope: string) => `${prefix}upstash:${scope}:synced-seq`,
    upstashSyncLock: (scope: string) => `${prefix}upstash:${scope}:sync-lock`,
    /**
     * Hash per cluster: `h:{epoch hour}` / `d:{epoch day}` -> items that joined it then; at most
     * 168 hourly and 90 daily fields (persist-batch.lua prunes older ones), expires 91 days
     * after the last arrival. Written by Lua through the descriptor (`keyspace.trends`).
     */
    trends: (clusterId: string) => `${prefix}trends:${clusterId}`,
    /** Hash, same fields, of the whole project's arrivals: the base rate `emerging` compares with. */
    arrivals: `${prefix}arrivals`,
    /** Change-feed sequence number up to which the alert detector examined clusters. */
    alertCursor: `${prefix}alerts:cursor`,
    /** Hash: `{cluster id}:size:{n}` / `{cluster id}:emerging` -> JSON {queued_at, delivered_at?}: each alert once. */
    alertsSent: `${prefix}alerts:sent`,
    /** Sorted set: alert id -> epoch ms at which it is (re)sent; a claimed one is pushed back by its lease. */
    alertQueue: `${prefix}alerts:queue`,
    /** Hash: alert id -> JSON {body, attempts, last_error} of queued alerts. */
    alertPayloads: `${prefix}alerts:payloads`,
    /** Hash: alert id -> JSON {body, attempts, reason, at} of alerts given up on after ALERT_MAX_ATTEMPTS. */
    alertsParked: `${prefix}alerts:parked`,
  };
}

/** The keys of one project (or of the one implicit project of the flat layout). */
export class Keyspace {
  readonly feedback: {
    item(id: string): string;
    created: string;
    bySource(source: string): string;
    external(source: string, externalId: string): string;
    unclustered: string;
  };
  readonly clusters: {
    cluster(id: string): string;
    items(id: string): string;
    /** Live clusters: a set in the flat layout, a sorted set by `created_at` in the project one. */
    all: string;
    allIsSorted: boolean;
  };
  readonly jobs: { job(id: string): string; recent: string };
  readonly service: ReturnType<typeof serviceKeys>;
  /** The descriptor Lua scripts name item and cluster keys by (`lua/includes/keyspace.lua`). */
  readonly lua: string;

  private constructor(readonly projectId: string | undefined) {
    if (projectId === undefined) {
      this.feedback = {
        item: (id) => `feedback:${id}`,
        created: 'feedback:created',
        bySource: (source) => `feedback:source:${source}`,
        external: (source, externalId) => `feedback:external:${source}:${externalId}`,
        unclustered: 'feedback:unclustered',
      };
      this.clusters = {
        cluster: (id) => `cluster:${id}`,
        items: (id) => `cluster:items:${id}`,
        all: 'clusters:all',
        allIsSorted: false,
      };
      this.jobs = { job: (id) => `cluster_job:${id}`, recent: 'cluster_jobs:recent' };
      this.service = serviceKeys('clustering:');
      this.lua = luaDescriptor({
        item: 'feedback:',
        cluster: 'cluster:',
        members: ['cluster:items:', ''],
        sortedLive: false,
        project: '',
        trends: this.service.trends(''),
        arrivals: this.service.arrivals,
      });
    } else {
      const pid = projectId;
      this.feedback = {
        item: (id) => `feedback:${pid}:${id}`,
        created: `feedback:created:${pid}`,
        bySource: (source) => `feedback:source:${pid}:${source}`,
        external: (source, externalId) => `feedback:external:${pid}:${source}:${externalId}`,
        unclustered: `feedback:unclustered:${pid}`,
      };
      this.clusters = {
        cluster: (id) => `cluster:${pid}:${id}`,
        items: (id) => `cluster:${pid}:${id}:items`,
        all: `clusters:${pid}:all`,
        allIsSorted: true,
      };
      this.jobs = { job: (id) => `cluster_job:${pid}:${id}`, recent: `cluster_jobs:${pid}:recent` };
      this.service = serviceKeys(`clustering:${pid}:`);
      this.lua = luaDescriptor({
        item: `feedback:${pid}:`,
        cluster: `cluster:${pid}:`,
        members: [`cluster:${pid}:`, ':items'],
        sortedLive: true,
        project: pid,
        trends: this.service.trends(''),
        arrivals: this.service.arrivals,
      });
    }
  }

  private static readonly FLAT = new Keyspace(undefined);

  static flat(): Keyspace {
    return Keyspace.FLAT;
  }

  static project(projectId: string): Keyspace {
    if (!isProjectId(projectId)) throw new Error(`not a project id: ${JSON.stringify(projectId)}`);
    return new Keyspace(projectId);
  }

  /**
   * A namespace of a remote vector index (Upstash): `name` in the flat layout, `{pid}:name` in the
   * project one, so projects' vectors (whose ids are bare cluster ids) never meet.
   */
  vectorNamespace(name: string): string {
    return this.projectId === undefined ? name : `${this.projectId}:${name}`;
  }

  /** Keys earlier versions wrote and this one only deletes (sweeps UNLINK them). */
  get retired(): string[] {
    return [this.service.centroids, this.service.itemModels];
  }
}

/** A UUID or CUID (CONTRACT §7): letters, digits and dashes, which no key separator is. */
export const PROJECT_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Whether `value` is a project id (PROJECT_ID). */
export function isProjectId(value: string): boolean {
  return PROJECT_ID.test(value);
}

/** The unclustered set's name pattern of the project layout, for discovery (SCAN MATCH). */
export const PROJECT_UNCLUSTERED_PATTERN = 'feedback:unclustered:*';

/** The project id in a project-layout unclustered key, or undefined. */
export function projectOfUnclusteredKey(key: string): string | undefined {
  const pid = key.slice('feedback:unclustered:'.length);
  return key.startsWith('feedback:unclustered:') && isProjectId(pid) ? pid : undefined;
}

function luaDescriptor(layout: LuaKeyspace): string {
  return JSON.stringify(layout);
}
