import Redis from 'ioredis';
import { parseFeedbackHash } from '../../feedback/feedback-item';
import { ClusterKeys, FeedbackKeys, ServiceKeys } from '../../redis/keys';
import { ClusterChange } from '../assign/assign-batch';
import { cosine, unpackVector } from '../assign/vector-math';
import { prepareText, readableText } from '../prepare/prepare-text';
import { distinctiveTerms, TermStatistics } from './distinctive-terms';
import { SummaryItem, Summarizer } from './summarizer.port';

export interface SummarizeOptions {
  /** Re-summarise once a cluster grew by this fraction since its last summary. */
  growth: number;
  maxTextChars: number;
}

/** Members read per cluster; the most representative of them go to the summarizer. */
const SAMPLE_READ = 30;
const SAMPLE_KEPT = 12;
const SUMMARY_CONCURRENCY = 16;

/** True when a cluster of `size` last summarised at `summarizedAt` changed enough to matter. */
export function needsSummary(size: number, summarizedAt: number, growth: number): boolean {
  if (summarizedAt <= 0) return true;
  return size >= summarizedAt + Math.max(1, Math.ceil(summarizedAt * growth));
}

/**
 * Names and describes the clusters a batch changed, when they changed enough to matter.
 * Runs after the batch is persisted: a cluster always has its provisional title meanwhile.
 */
export class SummarizeStage {
  private readonly terms = new TermStatistics();

  constructor(
    private readonly redis: Redis,
    private readonly summarizer: Summarizer,
    private readonly options: SummarizeOptions,
  ) {}

  async run(
    changes: readonly ClusterChange[],
    batchTexts: ReadonlyMap<string, string>,
  ): Promise<void> {
    this.terms.observe([...batchTexts.values()]);
    if (changes.length === 0) return;
    const last = await this.redis.hmget(
      ServiceKeys.summarizedAt,
      ...changes.map((c) => c.state.id),
    );
    const due = changes.filter((c, i) =>
      needsSummary(c.state.size, Number(last[i] ?? 0), this.options.growth),
    );
    // Summaries are independent: overlap their Redis round trips (and provider calls).
    for (let start = 0; start < due.length; start += SUMMARY_CONCURRENCY) {
      await Promise.all(
        due.slice(start, start + SUMMARY_CONCURRENCY).map((c) => this.summarizeOne(c)),
      );
    }
  }

  /** Summarises one cluster now, whatever its growth (used by sweeps for stale summaries). */
  async summarizeOne(change: Pick<ClusterChange, 'state'>): Promise<void> {
    const { state } = change;
    const { sample, embeddedTexts } = await this.sample(state.id, state.centroid);
    const sources = JSON.parse(
      (await this.redis.hget(ClusterKeys.cluster(state.id), 'sources')) ?? '[]',
    ) as string[];
    const summary = await this.summarizer.summarize({
      clusterId: state.id,
      size: state.size,
      sources,
      items: sample,
      terms: distinctiveTerms(embeddedTexts, this.terms),
    });
    const key = ClusterKeys.cluster(state.id);
    const write = this.redis
      .multi()
      .hset(key, {
        title: summary.title,
        summary: summary.summary,
        issue_title: summary.issueTitle,
        issue_description: summary.issueDescription,
      })
      .hset(ServiceKeys.summarizedAt, state.id, state.size);
    if (summary.githubRepoUrl) write.hset(key, 'github_repo_url', summary.githubRepoUrl);
    else write.hdel(key, 'github_repo_url');
    await write.exec();
  }

  /**
   * The most representative members, with their text as written (to be quoted) and, for the
   * terms, as embedded (normalised, so that "<num>" counts as no term, like the background).
   */
  private async sample(
    clusterId: string,
    centroid: Float32Array,
  ): Promise<{ sample: SummaryItem[]; embeddedTexts: string[] }> {
    const ids = await this.redis.srandmember(ClusterKeys.items(clusterId), SAMPLE_READ);
    if (ids.length === 0) return { sample: [], embeddedTexts: [] };
    const read = this.redis.pipeline();
    for (const id of ids) read.hgetall(FeedbackKeys.item(id));
    read.hmgetBuffer(ServiceKeys.itemVectors, ...ids);
    const replies = (await read.exec()) ?? [];
    const vectors = replies[ids.length][1] as (Buffer | null)[];
    const members: Array<{ item: SummaryItem; embedded: string }> = [];
    ids.forEach((id, i) => {
      const item = parseFeedbackHash(id, replies[i][1] as Record<string, string>);
      if (!item) return;
      const prepared = prepareText(item, this.options.maxTextChars);
      const vector = vectors[i];
      members.push({
        item: {
          id,
          source: item.source,
          title: item.title,
          text: readableText(item, this.options.maxTextChars),
          metadata: item.metadata,
          repo: item.repo,
          githubIssueUrl: item.githubIssueUrl,
          similarity: vector ? cosine(unpackVector(vector), centroid) : 0,
        },
        embedded: prepared.ok ? prepared.text : '',
      });
    });
    const kept = members
      .sort((a, b) => b.item.similarity - a.item.similarity)
      .slice(0, SAMPLE_KEPT);
    return { sample: kept.map((m) => m.item), embeddedTexts: kept.map((m) => m.embedded) };
  }
}
