import Redis from 'ioredis';
import { DescribedCluster } from '../pipeline/summarize/summarize-stage';
import { Keyspace } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';

/** A queue entry this replica holds until it completes or releases it (or the claim lapses). */
export interface SummaryClaim {
  clusterId: string;
  priority: number;
}

/**
 * The summary queue, shared by all replicas (`clustering:summaries:queue`): one entry per
 * cluster whose summary is due, ranked by size plus growth since its last summary. The
 * persist script adds entries; any replica claims the most urgent one (`claim-summary.lua`),
 * and a claim lapses after `claimMs`, so a dead replica's entry goes to another.
 */
export class SummaryQueue {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly claimMs: number,
    /** Growth since a summary, as a fraction, that makes a cluster due again. */
    private readonly growth: number,
  ) {}

  async claim(): Promise<SummaryClaim | undefined> {
    const reply = (await runScript(
      this.redis,
      'claimSummary',
      [this.keys.service.summaryQueue, this.keys.service.summaryClaims],
      [Date.now(), this.claimMs],
    )) as [string, string] | null;
    return reply ? { clusterId: reply[0], priority: Number(reply[1]) } : undefined;
  }

  /** Stores the summary (if the cluster is still live) and settles the entry; see `complete-summary.lua`. */
  async complete(clusterId: string, described: DescribedCluster): Promise<boolean> {
    const { summary } = described;
    const written = await runScript(
      this.redis,
      'completeSummary',
      [
        this.keys.clusters.cluster(clusterId),
        this.keys.clusters.all,
        this.keys.service.summaryQueue,
        this.keys.service.summaryClaims,
        this.keys.service.summarizedAt,
      ],
      [
        clusterId,
        described.size,
        this.growth,
        JSON.stringify({
          title: summary.title,
          summary: summary.summary,
          issue_title: summary.issueTitle,
          issue_description: summary.issueDescription,
          summary_model: summary.summaryModel,
          github_repo_url: summary.githubRepoUrl ?? '',
        }),
      ],
      this.keys,
    );
    return written === 1;
  }

  /** Removes the entry of a cluster that is gone. */
  async drop(clusterId: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.keys.service.summaryQueue, clusterId)
      .zrem(this.keys.service.summaryClaims, clusterId)
      .exec();
  }

  /** Gives claimed entries back at once (shutdown, a failed call): any replica may take them. */
  async release(clusterIds: readonly string[]): Promise<void> {
    if (clusterIds.length > 0)
      await this.redis.zrem(this.keys.service.summaryClaims, ...clusterIds);
  }

  /** Queues clusters found stale elsewhere (sweeps), keeping the entry's rank if higher. */
  async enqueue(entries: ReadonlyArray<{ clusterId: string; priority: number }>): Promise<void> {
    if (entries.length === 0) return;
    await this.redis.zadd(
      this.keys.service.summaryQueue,
      'GT',
      ...entries.flatMap((e) => [e.priority, e.clusterId]),
    );
  }
}

/** The rank of a cluster of `size` whose summary describes `summarizedAt` items. */
export function summaryPriority(size: number, summarizedAt: number): number {
  return size + Math.max(0, size - summarizedAt);
}
