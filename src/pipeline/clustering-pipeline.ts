import { Logger } from '@nestjs/common';
import { ClusterState } from '../ports/cluster-state';
import { FeedbackRepository } from '../feedback/feedback.repository';
import { Embedder, EmbedOutcome } from '../ports/embedder.port';
import { EmbedRetrySchedule } from './embed/embed-retry-schedule';
import { AssignOutcome, AssignStage, EmbeddedItem } from './assign/assign-stage';
import { VectorIndex } from '../ports/vector-index.port';
import { SummarizeStage, summaryItemOf } from './summarize/summarize-stage';
import { prepareText } from '../text/prepare-text';
import { BatchStats, addStats, emptyStats } from './batch-stats';
import { FeedbackItem } from '../feedback/feedback-item';
import { ItemVectors } from '../item-vectors/item-vectors';

export interface PipelineOptions {
  maxTextChars: number;
  /** Also copy item vectors to the index (Upstash's `items` namespace); nothing reads them. */
  storeItemVectors: boolean;
}

/**
 * The path of a batch of feedback ids from "offered" to "clustered":
 * look up → prepare text → embed → assign and persist (under the lock, with an extractive
 * text for each new cluster). Model summaries come later from the summary queue.
 * Every id ends clustered, skipped (not waiting), missing, parked or scheduled for an
 * embedding retry; only an infrastructure failure (Redis, the lock) throws, and then the
 * caller must not acknowledge the batch.
 */
export class ClusteringPipeline {
  private readonly logger = new Logger(ClusteringPipeline.name);

  constructor(
    private readonly feedback: FeedbackRepository,
    private readonly embedder: Embedder,
    private readonly retries: EmbedRetrySchedule,
    private readonly assign: AssignStage,
    private readonly index: VectorIndex,
    private readonly summarize: SummarizeStage,
    private readonly itemVectors: ItemVectors,
    private readonly options: PipelineOptions,
  ) {}

  async process(offeredIds: readonly string[]): Promise<BatchStats> {
    const stats = await this.processOnce(offeredIds);
    if (stats.requeued.length === 0) return stats.counts;
    // Their newer text is clustered now, once; an item re-written again meanwhile waits for
    // its own event (or the next sweep).
    const again = await this.processOnce(stats.requeued);
    return addStats(stats.counts, again.counts);
  }

  private async processOnce(
    offeredIds: readonly string[],
  ): Promise<{ counts: BatchStats; requeued: string[] }> {
    const stats = emptyStats();
    const ids = [...new Set(offeredIds)];
    const lookups = await this.feedback.lookup(ids);

    const notWaiting: string[] = [];
    const missing: string[] = [];
    const parked: Array<{ id: string; reason: string }> = [];
    const prepared: Array<{ item: FeedbackItem; text: string }> = [];
    for (const { id, waiting, item, unreadable } of lookups) {
      if (!waiting) notWaiting.push(id);
      else if (unreadable) parked.push({ id, reason: unreadable });
      else if (!item) missing.push(id);
      else {
        const result = prepareText(item, this.options.maxTextChars);
        if (result.ok) prepared.push({ item, text: result.text });
        else parked.push({ id, reason: result.reason });
      }
    }
    const outcomes = prepared.length > 0 ? await this.embed(prepared.map((p) => p.text)) : [];
    const embedded: EmbeddedItem[] = [];
    const failed: string[] = [];
    prepared.forEach(({ item }, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) {
        embedded.push({
          id: item.id,
          source: item.source,
          vector: this.itemVectors.asStored(outcome.vector),
        });
      } else if (outcome.permanent) {
        parked.push({ id: item.id, reason: outcome.reason });
      } else failed.push(item.id);
    });
    await this.feedback.forgetMissing(missing);
    await this.feedback.park(parked);
    // An updated item parked (its new text unreadable) must not stay counted in its old cluster.
    const detached = await this.assign.detach(parked.map((p) => p.id));
    if (detached.seq !== undefined) await this.updateIndex([], detached.shrunk, detached.seq);
    await this.retries.recordFailures(failed);
    // Whatever will not be embedded again has no retry to wait for.
    await this.retries.clear([...notWaiting, ...missing, ...parked.map((p) => p.id)]);
    stats.skipped = notWaiting.length;
    stats.missing_feedback = missing.length;
    stats.parked = parked.length;
    stats.failed_embeddings = failed.length;
    if (embedded.length === 0) return { counts: stats, requeued: [] };

    this.summarize.observe(prepared.map((p) => p.text));
    const members = new Map(
      prepared.map((p) => [
        p.item.id,
        { item: summaryItemOf(p.item, this.options.maxTextChars), embedded: p.text },
      ]),
    );
    const { plan, persisted, alreadyClustered, shrunk } = await this.assign.run(
      embedded,
      (changes) => this.summarize.describeNew(changes, members),
    );
    const embeddedIds = embedded.map((e) => e.id);
    await this.retries.clear(embeddedIds);
    await this.feedback.unpark(embeddedIds);

    const written = new Set(plan.assignments.map((a) => a.itemId));
    for (const id of persisted.skippedIds) written.delete(id);
    const changes = plan.changes.filter((c) => c.addedItemIds.some((id) => written.has(id)));
    stats.clustered_count = persisted.clustered;
    stats.skipped += alreadyClustered.length + persisted.skippedIds.length;
    stats.new_clusters = changes.filter((c) => c.created).length;
    stats.updated_clusters = changes.length - stats.new_clusters;

    await this.updateIndex(
      changes.map((c) => c.state),
      shrunk,
      persisted.seq,
    );
    if (this.options.storeItemVectors && this.index.upsertItems) {
      const items = embedded.filter((e) => written.has(e.id));
      await this.index.upsertItems(items).catch((error: unknown) => {
        // Redis holds the item vectors already; the index's copy is for search, not assignment.
        this.logger.warn(`item vectors not stored in ${this.index.name}: ${String(error)}`);
      });
    }
    const requeued = await this.requeueChanged(prepared.filter((p) => written.has(p.item.id)));
    return { counts: stats, requeued };
  }

  /**
   * Items whose producer re-wrote their text while this batch embedded the old one: the
   * batch wrote a vector of text that is gone, and the update's own event may already have
   * been skipped (the item looked clustered). They are put back to waiting, to be clustered
   * on their current text.
   */
  private async requeueChanged(
    written: ReadonlyArray<{ item: FeedbackItem; text: string }>,
  ): Promise<string[]> {
    if (written.length === 0) return [];
    const now = await this.feedback.lookup(written.map((w) => w.item.id));
    const changed = written.flatMap(({ item, text }, i) => {
      const current = now[i].item;
      if (!current) return [];
      const result = prepareText(current, this.options.maxTextChars);
      return !result.ok || result.text !== text ? [item.id] : [];
    });
    if (changed.length > 0) await this.feedback.requeue(changed);
    return changed;
  }

  /** Tells the index of grown clusters and of those updated items left (shrunk or emptied). */
  private async updateIndex(
    grown: ClusterState[],
    shrunk: AssignOutcome['shrunk'],
    seq: number,
  ): Promise<void> {
    const live = shrunk.flatMap((c) => (c.state && c.state.size > 0 ? [c.state] : []));
    const gone = shrunk.filter((c) => !c.state || c.state.size === 0).map((c) => c.id);
    await this.index.clustersChanged([...grown, ...live], gone, seq);
  }

  private async embed(texts: string[]): Promise<EmbedOutcome[]> {
    try {
      return await this.embedder.embed(texts);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(`embedding failed for ${texts.length} texts: ${reason}`);
      return texts.map(() => ({ ok: false, reason }));
    }
  }
}
