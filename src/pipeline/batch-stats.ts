/** What one pass over a set of feedback ids did; the job stats (CONTRACT §4) are sums of these. */
export interface BatchStats {
  clustered_count: number;
  new_clusters: number;
  updated_clusters: number;
  failed_embeddings: number;
  missing_feedback: number;
  /** Parked as unprocessable (e.g. no text); they stay in `feedback:unclustered`. */
  parked: number;
  /** Offered but not waiting any more (already clustered): acknowledged and skipped. */
  skipped: number;
}

export function emptyStats(): BatchStats {
  return {
    clustered_count: 0,
    new_clusters: 0,
    updated_clusters: 0,
    failed_embeddings: 0,
    missing_feedback: 0,
    parked: 0,
    skipped: 0,
  };
}

export function addStats(total: BatchStats, more: BatchStats): BatchStats {
  const sum = { ...total };
  for (const key of Object.keys(sum) as (keyof BatchStats)[]) sum[key] += more[key];
  return sum;
}
