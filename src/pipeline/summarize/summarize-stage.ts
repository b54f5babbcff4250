import { setImmediate } from 'node:timers/promises';
import Redis from 'ioredis';
import { LiveClusters } from '../../clusters/live-clusters';
import { FeedbackItem, parseFeedbackHash } from '../../feedback/feedback-item';
import { ItemVectors, PreparedItem } from '../../item-vectors/item-vectors';
import { Keyspace } from '../../redis/keyspace';
import { ClusterChange } from '../assign/assign-batch';
import { cosine } from '../../math/vector-math';
import { prepareText, readableText } from '../../text/prepare-text';
import { distinctiveTerms, TermStatistics } from '../../text/distinctive-terms';
import {
  allowedLinks,
  enforceOutputPolicy,
  plainText,
  withoutLinks,
} from '../../text/summary-output-policy';
import { ClusterSummary, SummaryItem, Summarizer } from '../../ports/summarizer.port';

export interface SummarizeOptions {
  /** Re-summarise once a cluster grew by this fraction since its last summary. */
  growth: number;
  maxTextChars: number;
}

/** A summary as stored: the policy enforced, and the summarizer that wrote it. */
export interface StoredSummary extends ClusterSummary {
  summaryModel: string;
}

/** An item as the summarizer sees it, and its text as embedded (for the distinctive terms). */
export interface SampledItem {
  item: SummaryItem;
  /** Normalised, so that "<num>" counts as no term, like the background. */
  embedded: string;
}

/** A summary of one cluster and the size it describes. */
export interface DescribedCluster {
  summary: StoredSummary;
  size: number;
}

/** Members read per cluster; the most representative of them go to the summarizer. */
const SAMPLE_READ = 30;
const SAMPLE_KEPT = 12;
/** New clusters described between two turns of the event loop. */
const YIELD_EVERY = 64;

/** True when a cluster of `size` last summarised at `summarizedAt` changed enough to matter. */
export function needsSummary(size: number, summarizedAt: number, growth: number): boolean {
  if (summarizedAt <= 0) return true;
  return size >= summarizedAt + Math.max(1, Math.ceil(summarizedAt * growth));
}

/**
 * Names and describes clusters. A new cluster is described extractively from its founding
 * items as the batch is persisted (so it is never untitled); the configured summarizer (a
 * model, or the extractive one) rewrites it later from the summary queue, off the hot path.
 */
export class SummarizeStage {
  private readonly terms = new TermStatistics();
  private readonly live: LiveClusters;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly summarizer: Summarizer,
    private readonly extractive: Summarizer,
    private readonly itemVectors: ItemVectors,
    private readonly options: SummarizeOptions,
  ) {
    this.live = new LiveClusters(redis, keys);
  }

  /** Whether new clusters wait for the queue's summarizer too (it is not the extractive one). */
  get queuesNewClusters(): boolean {
    return this.summarizer.name !== this.extractive.name;
  }

  get growth(): number {
    return this.options.growth;
  }

  /** Learns how common terms are, from a batch's prepared texts. */
  observe(texts: Iterable<string>): void {
    this.terms.observe([...texts]);
  }

  /**
   * Extractive text for each cluster in `changes` that a batch founds, from its founding
   * items alone: no Redis reads, since it runs under the assignment lock.
   */
  async describeNew(
    changes: readonly ClusterChange[],
    members: ReadonlyMap<string, SampledItem>,
  ): Promise<Map<string, StoredSummary>> {
    const described = new Map<string, StoredSummary>();
    const created = changes.filter((c) => c.created);
    for (const [n, change] of created.entries()) {
      // About half a millisecond each: let health checks and I/O in now and then.
      if (n > 0 && n % YIELD_EVERY === 0) await setImmediate();
      const sampled = change.addedItemIds.flatMap((id) => members.get(id) ?? []);
      const items = sampled.map((s) => s.item);
      const summary = await this.extractive.summarize({
        clusterId: change.state.id,
        size: change.state.size,
        sources: [...new Set(items.map((i) => i.source))],
        items: items.slice(0, SAMPLE_KEPT).map(withoutLinks),
        terms: this.distinctive(sampled.slice(0, SAMPLE_KEPT)),
      });
      described.set(change.state.id, this.stored(summary, this.extractive.name, items));
    }
    return described;
  }

  /** Summarises one live cluster now with the configured summarizer; undefined when it is gone. */
  async summarizeOne(clusterId: string): Promise<DescribedCluster | undefined> {
    const key = this.keys.clusters.cluster(clusterId);
    const read = this.redis.pipeline().hmget(key, 'size', 'sources', 'centroid');
    this.live.queueCheck(read, clusterId);
    const [[, fields], [, live]] = ((await read.exec()) ?? []) as [
      [unknown, (string | null)[]],
      [unknown, unknown],
    ];
    // The centroid lives only in the cluster hash, as the contract's JSON array.
    if (!this.live.isLiveReply(live) || !fields[2]) return undefined;
    const size = Number(fields[0] ?? 0);
    const sources = JSON.parse(fields[1] ?? '[]') as string[];
    const centroid = Float32Array.from(JSON.parse(fields[2]) as number[]);
    const sampled = await this.sample(clusterId, centroid);
    const sample = sampled.map((s) => s.item);
    const summary = await this.summarizer.summarize({
      clusterId,
      size,
      sources,
      items: sample.map(withoutLinks),
      terms: this.distinctive(sampled),
      links: [...allowedLinks(sample)],
    });
    return { summary: this.stored(summary, this.summarizer.name, sample), size };
  }

  /** Terms from the texts as embedded, links taken out (a term is never a link). */
  private distinctive(sampled: readonly SampledItem[]): string[] {
    return distinctiveTerms(
      sampled.map((s) => plainText(s.embedded, '')),
      this.terms,
    );
  }

  /** `items` as read (links included): what they vouch for decides which links may stay. */
  private stored(
    summary: ClusterSummary,
    askedFor: string,
    items: readonly SummaryItem[],
  ): StoredSummary {
    return {
      ...enforceOutputPolicy(summary, items),
      summaryModel: summary.writtenBy ?? askedFor,
    };
  }

  /** The most representative members, with their text as written (to be quoted) and as embedded. */
  private async sample(clusterId: string, centroid: Float32Array): Promise<SampledItem[]> {
    const ids = await this.redis.srandmember(this.keys.clusters.items(clusterId), SAMPLE_READ);
    if (ids.length === 0) return [];
    const read = this.redis.pipeline();
    for (const id of ids) read.hgetall(this.keys.feedback.item(id));
    const replies = (await read.exec()) ?? [];
    const members: SampledItem[] = [];
    const prepared: PreparedItem[] = [];
    ids.forEach((id, i) => {
      const item = parseFeedbackHash(id, replies[i][1] as Record<string, string>);
      if (!item) return;
      const result = prepareText(item, this.options.maxTextChars);
      if (result.ok) prepared.push({ id, text: result.text });
      members.push({
        item: {
          ...summaryItemOf(item, this.options.maxTextChars),
          similarity: 0,
        },
        embedded: result.ok ? result.text : '',
      });
    });
    const vectors = await this.itemVectors.vectorsOf(prepared);
    for (const { item } of members) {
      const vector = vectors.get(item.id);
      if (vector) item.similarity = cosine(vector, centroid);
    }
    return members.sort((a, b) => b.item.similarity - a.item.similarity).slice(0, SAMPLE_KEPT);
  }
}

/** A feedback item as the summarizer sees it, its text as written (similarity 1 until known). */
export function summaryItemOf(item: FeedbackItem, maxTextChars: number): SummaryItem {
  return {
    id: item.id,
    source: item.source,
    title: item.title,
    text: readableText(item, maxTextChars),
    metadata: item.metadata,
    repo: item.repo,
    githubIssueUrl: item.githubIssueUrl,
    similarity: 1,
  };
}
