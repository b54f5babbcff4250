/**
 * Every Redis key the service reads or writes, in one place.
 * Names outside `clustering:` come from the contract (../shared/CONTRACT.md §1-§2) and are not ours to change.
 */
export const FeedbackKeys = {
  item: (id: string) => `feedback:${id}`,
  created: 'feedback:created',
  bySource: (source: string) => `feedback:source:${source}`,
  external: (source: string, externalId: string) => `feedback:external:${source}:${externalId}`,
  unclustered: 'feedback:unclustered',
  events: 'feedback:events',
} as const;

export const ClusterKeys = {
  cluster: (id: string) => `cluster:${id}`,
  items: (id: string) => `cluster:items:${id}`,
  all: 'clusters:all',
} as const;

export const JobKeys = {
  job: (id: string) => `cluster_job:${id}`,
  recent: 'cluster_jobs:recent',
} as const;

/** The service's own keys: vectors, locks, consumer state, dead letters. */
export const ServiceKeys = {
  /** Serialises cluster assignment across replicas (fenced by its token). */
  assignLock: 'clustering:lock:assign',
  /** Monotonic counter bumped on every centroid change; replicas use it to catch up. */
  indexSeq: 'clustering:index:seq',
  /** Sorted set: cluster id -> sequence number of its latest centroid change. */
  indexChanges: 'clustering:index:changes',
  /**
   * Hash written by earlier versions (packed float32 centroids): no longer written or read (the
   * cluster hash's `centroid` is the only copy); scripts delete entries, sweeps the key.
   */
  centroids: 'clustering:index:centroids',
  /** Highest sequence number of a pruned change-feed entry: readers behind it read it all. */
  indexPrunedSeq: 'clustering:index:pruned-seq',
  /** Hash: pruning cursors of the sweeps' key pruner (parked, summaries, changes). */
  pruneCursors: 'clustering:prune:cursors',
  /** Hash: cluster id -> int8 record of its anchor (the vector the cluster was founded on). */
  anchors: 'clustering:index:anchors',
  /**
   * Hash: feedback id -> int8 record of its vector (src/item-vectors/int8-record.ts); only for
   * embedders whose vectors are not recomputed from text (ITEM_VECTORS).
   */
  itemVectors: 'clustering:vectors:items',
  /**
   * Hash written by earlier versions (a model name per item vector): the vectors carry a
   * fingerprint of their model now; scripts delete entries, sweeps the key.
   */
  itemModels: 'clustering:vectors:models',
  /**
   * Change-feed sequence number up to which sweeps examined clusters; advanced step by step,
   * so an interrupted sweep resumes there.
   */
  sweepCursor: 'clustering:sweep:seq',
  /**
   * Hash: feedback id -> the cluster the service put it in. Lets an update find the cluster
   * the item leaves even when its producer re-wrote the hash without `cluster_id`.
   */
  membership: 'clustering:membership',
  /** Hash: cluster id -> size at which it was last summarised. */
  summarizedAt: 'clustering:summaries:size',
  /** Sorted set: cluster id -> priority (size plus growth since its summary); one entry per cluster. */
  summaryQueue: 'clustering:summaries:queue',
  /** Sorted set: cluster id -> epoch ms at which a replica's claim on its queue entry lapses. */
  summaryClaims: 'clustering:summaries:claims',
  /** Hash {tokens, at}: the deployment-wide token bucket of model summary calls. */
  summaryTokens: 'clustering:summaries:tokens',
  /** Hash: feedback id -> JSON {reason, at} for items parked as unprocessable. */
  parked: 'clustering:parked',
  /**
   * Hash: stream entry id -> attempts that failed because of the item itself (the entry
   * processed alone, and the failure not an outage). Unlike XPENDING's delivery count, which
   * every read bumps, only these count towards MAX_DELIVERIES.
   */
  streamItemFailures: 'clustering:stream:item-failures',
  /** Sorted set: running job id -> epoch ms of its owner's last heartbeat (progress write). */
  jobHeartbeats: 'clustering:jobs:heartbeats',
  /** Stream of events given up on, with their reason. */
  deadLetters: 'clustering:dead-letters',
  /** Hash: feedback id -> failed embedding attempts, for backoff. */
  embedFailures: 'clustering:embed-failures',
  /**
   * Hash: how far the search for unannounced items got in `feedback:created`: `watermark`
   * (the highest score examined) and `rescan` (rank of the slow full-coverage cursor).
   */
  unannounced: 'clustering:unannounced',
  /** Sorted set: feedback id -> epoch ms before which it is not retried. */
  retryAfter: 'clustering:embed-retry-after',
  /** Hash per embedding model: `sum` (packed float64 sum of its unit item vectors), `count`. */
  calibration: (model: string) => `clustering:calibration:${model}`,
} as const;

/** Keys earlier versions wrote and this one only deletes (sweeps UNLINK them). */
export const RetiredServiceKeys = [ServiceKeys.centroids, ServiceKeys.itemModels];
