import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { Calibration } from '../calibration/calibration';
import { CalibrationStore } from '../calibration/calibration.store';
import { ClusterState } from '../clusters/cluster-state';
import { ClusterStateStore } from '../clusters/cluster-state.store';
import { Environment } from '../config/environment';
import { ClusteringMetrics } from '../metrics/clustering-metrics';
import { unpackVector } from '../pipeline/assign/vector-math';
import { EMBEDDER, Embedder } from '../pipeline/embed/embedder.port';
import { needsSummary } from '../pipeline/summarize/summarize-stage';
import { SummaryQueue, summaryPriority } from '../summaries/summary-queue';
import { ClusterKeys, ServiceKeys } from '../redis/keys';
import { REDIS } from '../redis/redis.module';
import { ClusterMerger } from './cluster-merger';
import { ItemMover } from './item-mover';
import { AbsorbParams, planAbsorptions, stillAbsorbable } from './absorb-plan';
import { MergeParams, planMerges } from './merge-plan';
import { PlacedItem, planMoves } from './move-plan';
import { SweepLease } from './sweep-lock';

/** Index change sequence number up to which the last completed sweep looked. */
export const SWEEP_SEQ_KEY = 'clustering:sweep:seq';

export interface MaintenanceStats {
  merged_clusters: number;
  absorbed_clusters: number;
  moved_items: number;
  refreshed_summaries: number;
}

/**
 * The maintenance part of a full sweep: merge near-duplicate clusters, move items that sit
 * far better in another cluster, refresh stale summaries. It looks at clusters changed since
 * the last completed sweep (all of them the first time), which bounds the work to what can
 * have changed; moves and summaries are further bounded by configuration.
 */
@Injectable()
export class ClusterMaintenance {
  private readonly logger = new Logger(ClusterMaintenance.name);
  private readonly store: ClusterStateStore;
  private readonly calibrations: CalibrationStore;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    private readonly merger: ClusterMerger,
    private readonly mover: ItemMover,
    private readonly summaries: SummaryQueue,
    private readonly metrics: ClusteringMetrics,
    private readonly env: Environment,
  ) {
    this.store = new ClusterStateStore(redis);
    this.calibrations = new CalibrationStore(redis);
  }

  async run(lease: SweepLease): Promise<MaintenanceStats> {
    const model = this.embedder.model;
    const seqAtStart = Number((await this.redis.get(ServiceKeys.indexSeq)) ?? 0);
    const changed = await this.changedSinceLastSweep(seqAtStart);
    const calibration = await this.calibrations.load(model);

    lease.assertHeld();
    const { merged, survivors } = await this.mergeNearDuplicates(model, calibration, changed);
    for (const id of survivors) changed?.add(id);

    lease.assertHeld();
    const absorbed = await this.absorbSmallClusters(model, calibration);
    for (const id of absorbed.survivors) {
      survivors.add(id);
      changed?.add(id);
    }

    lease.assertHeld();
    const moves = await this.moveMisplacedItems(model, calibration, changed);
    for (const state of moves.touched) changed?.add(state.id);

    lease.assertHeld();
    const refreshed = await this.refreshSummaries(model, changed, survivors);

    await this.redis.set(SWEEP_SEQ_KEY, seqAtStart);
    return {
      merged_clusters: merged,
      absorbed_clusters: absorbed.count,
      moved_items: moves.moved,
      refreshed_summaries: refreshed,
    };
  }

  /** Ids changed since the last sweep, or undefined (= every cluster) before the first one. */
  private async changedSinceLastSweep(seqAtStart: number): Promise<Set<string> | undefined> {
    const lastSeq = Number((await this.redis.get(SWEEP_SEQ_KEY)) ?? 0);
    // A feed that went backwards (data replaced under us) makes every cluster new to us.
    if (lastSeq <= 0 || lastSeq > seqAtStart) return undefined;
    return new Set(
      await this.redis.zrangebyscore(ServiceKeys.indexChanges, `(${lastSeq}`, seqAtStart),
    );
  }

  private async liveStates(model: string): Promise<ClusterState[]> {
    return (await this.store.load(await this.redis.smembers(ClusterKeys.all), model)).live;
  }

  private async mergeNearDuplicates(
    model: string,
    calibration: Calibration,
    changed: Set<string> | undefined,
  ) {
    const params: MergeParams = {
      threshold: this.env.MERGE_THRESHOLD,
      anchorThreshold: this.env.ANCHOR_THRESHOLD,
      rule: this.env.JOIN_RULE,
    };
    const pairs = planMerges(await this.liveStates(model), params, calibration, changed);
    let merged = 0;
    const survivors = new Set<string>();
    for (const pair of pairs) {
      const outcome = await this.merger.merge(
        pair,
        model,
        (survivor, absorbed) => planMerges([survivor, absorbed], params, calibration).length > 0,
      );
      if (!outcome) continue;
      merged++;
      survivors.add(outcome.survivor.id);
      this.logger.log({
        msg: 'merged clusters',
        survivor_id: outcome.survivor.id,
        absorbed_id: outcome.absorbedId,
        moved_items: outcome.movedItems,
        similarity: Number(pair.similarity.toFixed(4)),
      });
    }
    this.metrics.merges(merged);
    return { merged, survivors };
  }

  /**
   * Absorbs small clusters into the larger neighbour they clearly belong to. Every small
   * cluster is looked at, changed or not: its neighbours may have grown since it was made.
   */
  private async absorbSmallClusters(model: string, calibration: Calibration) {
    const params: AbsorbParams = {
      maxSize: this.env.ABSORB_MAX_SIZE,
      threshold: this.env.ABSORB_THRESHOLD,
      growthPenalty: this.env.JOIN_GROWTH_PENALTY,
      anchorThreshold: this.env.ANCHOR_THRESHOLD,
    };
    const survivors = new Set<string>();
    if (params.maxSize === 0) return { count: 0, survivors };
    const pairs = planAbsorptions(await this.liveStates(model), params, calibration);
    let count = 0;
    for (const pair of pairs) {
      const outcome = await this.merger.merge(pair, model, (target, small) =>
        stillAbsorbable(target, small, params, calibration),
      );
      if (!outcome) continue;
      count++;
      survivors.add(outcome.survivor.id);
    }
    this.metrics.merges(count);
    if (count > 0) this.logger.log({ msg: 'absorbed small clusters', absorbed_clusters: count });
    return { count, survivors };
  }

  private async moveMisplacedItems(
    model: string,
    calibration: Calibration,
    changed: Set<string> | undefined,
  ) {
    const limit = this.env.SWEEP_MOVE_SCAN_LIMIT;
    if (limit === 0) return { moved: 0, touched: [] };
    const states = await this.liveStates(model);
    const examined = states.filter((s) => !changed || changed.has(s.id));
    const items: PlacedItem[] = [];
    for (const state of examined) {
      if (items.length >= limit) break;
      const ids = (await this.redis.smembers(ClusterKeys.items(state.id))).slice(
        0,
        limit - items.length,
      );
      if (ids.length === 0) continue;
      const vectors = await this.redis.hmgetBuffer(ServiceKeys.itemVectors, ...ids);
      ids.forEach((id, i) => {
        const vector = vectors[i];
        if (vector) items.push({ id, clusterId: state.id, vector: unpackVector(vector) });
      });
    }
    const moves = planMoves(
      items,
      states,
      {
        joinThreshold: this.env.JOIN_THRESHOLD,
        anchorThreshold: this.env.ANCHOR_THRESHOLD,
        margin: this.env.MOVE_MARGIN,
        rule: this.env.JOIN_RULE,
      },
      calibration,
    );
    const outcome = await this.mover.apply(moves, model);
    this.metrics.moves(outcome.moved);
    if (outcome.moved > 0) this.logger.log({ msg: 'moved items', moved_items: outcome.moved });
    return outcome;
  }

  /**
   * Queues summaries for merged survivors (their content changed wholesale) and changed
   * clusters whose summary is missing or stale by the pipeline's growth rule, up to the
   * configured bound; the summary queue's workers write them.
   */
  private async refreshSummaries(
    model: string,
    changed: Set<string> | undefined,
    survivors: Set<string>,
  ): Promise<number> {
    const limit = this.env.SWEEP_MAX_SUMMARIES;
    if (limit === 0) return 0;
    const states = (await this.liveStates(model)).filter((s) => !changed || changed.has(s.id));
    if (states.length === 0) return 0;
    const last = await this.redis.hmget(ServiceKeys.summarizedAt, ...states.map((s) => s.id));
    const due = states
      .map((s, i) => ({ state: s, summarizedAt: Number(last[i] ?? 0) }))
      .filter(
        ({ state, summarizedAt }) =>
          survivors.has(state.id) ||
          needsSummary(state.size, summarizedAt, this.env.RESUMMARIZE_GROWTH),
      )
      .slice(0, limit);
    await this.summaries.enqueue(
      due.map(({ state, summarizedAt }) => ({
        clusterId: state.id,
        // A merged survivor's summary describes half of it at best.
        priority: summaryPriority(state.size, survivors.has(state.id) ? 0 : summarizedAt),
      })),
    );
    return due.length;
  }
}
