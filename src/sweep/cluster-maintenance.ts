import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { Calibration } from '../calibration/calibration';
import { CalibrationStore } from '../calibration/calibration.store';
import { ClusterState } from '../ports/cluster-state';
import { ClusterStateStore } from '../clusters/cluster-state.store';
import { ClusteringParams, clusteringParams } from '../config/clustering-params';
import { Environment } from '../config/environment';
import { ItemVectors } from '../item-vectors/item-vectors';
import { ClusteringMetrics } from '../metrics/clustering-metrics';
import { normalize } from '../math/vector-math';
import { EMBEDDER, Embedder } from '../ports/embedder.port';
import { ControlPins } from '../control/pins';
import { needsSummary } from '../pipeline/summarize/summarize-stage';
import { SummaryQueue, summaryPriority } from '../summaries/summary-queue';
import { KeptLease } from '../redis/distributed-lock';
import { Keyspace } from '../redis/keyspace';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { TimeSlice } from '../runtime/time-slice';
import { VECTOR_INDEX, VectorIndex } from '../ports/vector-index.port';
import { planAbsorptions, stillAbsorbable } from './absorb-plan';
import { ClusterMerger } from './cluster-merger';
import { ItemMover } from './item-mover';
import { KeyPruner } from './key-pruner';
import { MergePair, planMerges } from './merge-plan';
import { PlannedMove, planMoves } from './move-plan';

export interface MaintenanceStats {
  merged_clusters: number;
  absorbed_clusters: number;
  moved_items: number;
  refreshed_summaries: number;
}

/** Clusters read from the change feed per step: one round trip, a few ms of centroid parsing. */
const CLUSTERS_PER_STEP = 100;
/** Nearest clusters asked of the vector index per examined cluster or item. */
const NEIGHBOURS = 10;

/**
 * The maintenance part of a full sweep: merge near-duplicate clusters, absorb small ones into
 * the neighbour they clearly belong to, move items that sit
 * far better in another cluster, refresh stale summaries, prune keys that would only grow
 * (KeyPruner).
 *
 * It examines the clusters changed since the cursor `clustering:sweep:seq` (every cluster the
 * first time), in change-feed order, in steps of 100, and advances the cursor after each step,
 * so a sweep cut short (lock lost, process killed, SWEEP_MAX_CLUSTERS reached) resumes where
 * it stopped. Candidates come from the vector index (the nearest clusters of each examined
 * cluster, and of each examined item), never from all pairs: the work is about
 * clusters × (one index search + NEIGHBOURS comparisons). Long loops give the event loop a turn
 * every 20 ms (TimeSlice), so health checks and lock heartbeats keep running. The decisions
 * themselves are the pure `planMerges`, `planAbsorptions` and `planMoves`, and every merge and move is checked
 * again against fresh state under the assignment lock before it is written.
 */
@Injectable()
export class ClusterMaintenance {
  private readonly logger = new Logger(ClusterMaintenance.name);
  private readonly store: ClusterStateStore;
  private readonly calibrations: CalibrationStore;
  private readonly params: ClusteringParams;
  private readonly pins: ControlPins;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    private readonly merger: ClusterMerger,
    private readonly mover: ItemMover,
    private readonly summaries: SummaryQueue,
    private readonly itemVectors: ItemVectors,
    private readonly pruner: KeyPruner,
    private readonly metrics: ClusteringMetrics,
    private readonly env: Environment,
  ) {
    this.store = new ClusterStateStore(redis, keys);
    this.calibrations = new CalibrationStore(redis, keys);
    this.params = clusteringParams(env);
    this.pins = new ControlPins(redis, keys);
  }

  async run(lease: KeptLease): Promise<MaintenanceStats> {
    const model = this.embedder.model;
    await this.redis.unlink(...this.keys.retired);
    const seqAtStart = Number((await this.redis.get(this.keys.service.indexSeq)) ?? 0);
    let cursor = Number((await this.redis.get(this.keys.service.sweepCursor)) ?? 0);
    // A feed that went backwards (data replaced under us) makes every cluster new to us.
    if (cursor > seqAtStart) cursor = 0;
    const calibration = await this.calibrations.load(model);
    const stats: MaintenanceStats = {
      merged_clusters: 0,
      absorbed_clusters: 0,
      moved_items: 0,
      refreshed_summaries: 0,
    };
    const summaryDue = new Set<string>();
    const survivors = new Set<string>();
    let examined = 0;
    let moveBudget = this.env.SWEEP_MOVE_SCAN_LIMIT;

    await this.index.refresh();
    while (cursor < seqAtStart && examined < this.env.SWEEP_MAX_CLUSTERS) {
      lease.assertHeld();
      const step = await this.redis.zrangebyscore(
        this.keys.service.indexChanges,
        `(${cursor}`,
        seqAtStart,
        'WITHSCORES',
        'LIMIT',
        0,
        Math.min(CLUSTERS_PER_STEP, this.env.SWEEP_MAX_CLUSTERS - examined),
      );
      if (step.length === 0) break;
      const ids = step.filter((_, i) => i % 2 === 0);
      const { live } = await this.store.load(ids, model);
      examined += ids.length;

      const merges = await this.mergeNearDuplicates(live, calibration);
      stats.merged_clusters += merges.merged;
      const absorptions = await this.absorbSmallClusters(
        live.filter((s) => !merges.absorbed.has(s.id)),
        calibration,
      );
      stats.absorbed_clusters += absorptions.merged;
      for (const id of [...merges.survivors, ...absorptions.survivors]) {
        summaryDue.add(id);
        survivors.add(id);
      }
      // Clusters merged away in this step are not looked at for moves.
      const gone = new Set([...merges.absorbed, ...absorptions.absorbed]);
      const remaining = live.filter((s) => !gone.has(s.id));
      if (moveBudget > 0) {
        const moves = await this.moveMisplacedItems(remaining, moveBudget, calibration);
        stats.moved_items += moves.moved;
        moveBudget -= moves.examined;
      }
      await this.collectSummaryDue(remaining, summaryDue);

      cursor = Number(step[step.length - 1]);
      await this.redis.set(this.keys.service.sweepCursor, cursor);
    }

    lease.assertHeld();
    stats.refreshed_summaries = await this.refreshSummaries(model, [...summaryDue], survivors);
    lease.assertHeld();
    const pruned = await this.pruner.prune();
    if (pruned.parked + pruned.summaries + pruned.changes > 0) {
      this.logger.log({ msg: 'pruned keys', ...pruned });
    }
    this.metrics.merges(stats.merged_clusters + stats.absorbed_clusters);
    this.metrics.moves(stats.moved_items);
    return stats;
  }

  /**
   * For each examined cluster, `planMerges` over it and its nearest clusters (pairs with it
   * only) gives its best merge; the pairs are executed most similar first, each re-checked
   * against fresh state by the merger (a cluster already merged away in this sweep is skipped).
   */
  private async mergeNearDuplicates(states: readonly ClusterState[], calibration: Calibration) {
    const params = this.params.merge;
    return this.mergeWithNeighbours(
      states,
      (state, others) => planMerges([state, ...others], params, calibration, new Set([state.id])),
      (survivor, absorbed) => planMerges([survivor, absorbed], params, calibration).length > 0,
      'merged clusters',
    );
  }

  /**
   * Small examined clusters, each with its nearest clusters as the possible targets
   * (`planAbsorptions`); the merger checks each against fresh state (`stillAbsorbable`), so a
   * target's bar rises as it takes several in one sweep.
   */
  private async absorbSmallClusters(states: readonly ClusterState[], calibration: Calibration) {
    const params = this.params.absorb;
    const small = params.maxSize === 0 ? [] : states.filter((s) => s.size <= params.maxSize);
    return this.mergeWithNeighbours(
      small,
      (state, others) =>
        planAbsorptions([state, ...others], params, calibration).filter(
          (pair) => pair.absorbedId === state.id,
        ),
      (target, absorbed) => stillAbsorbable(target, absorbed, params, calibration),
      'absorbed small cluster',
    );
  }

  /**
   * The candidate search both merge rules share: each cluster's nearest clusters from the index,
   * the rule's pure planner over them, then the pairs executed most similar first.
   */
  private async mergeWithNeighbours(
    states: readonly ClusterState[],
    plan: (state: ClusterState, neighbours: ClusterState[]) => MergePair[],
    qualifies: (survivor: ClusterState, absorbed: ClusterState) => boolean,
    logMessage: string,
  ) {
    const survivors = new Set<string>();
    const absorbed = new Set<string>();
    if (states.length === 0) return { merged: 0, survivors, absorbed };
    const neighbours = await this.index.candidates(
      states.map((s) => normalize(s.centroid)),
      NEIGHBOURS,
    );
    // Clusters a person split apart are no candidates of each other (the merger checks again).
    const apart = await this.pins.apartFrom(states.map((s) => s.id));
    const slice = new TimeSlice();
    const pairs = new Map<string, MergePair>();
    for (let i = 0; i < states.length; i++) {
      await slice.pause();
      const keptApart = apart.get(states[i].id);
      const others = neighbours[i].filter((n) => n.id !== states[i].id && !keptApart?.has(n.id));
      const [pair] = plan(states[i], others);
      if (pair) pairs.set([pair.survivorId, pair.absorbedId].sort().join(' '), pair);
    }
    let merged = 0;
    for (const pair of [...pairs.values()].sort((a, b) => b.similarity - a.similarity)) {
      if (absorbed.has(pair.survivorId) || absorbed.has(pair.absorbedId)) continue;
      const outcome = await this.merger.merge(pair, this.embedder.model, qualifies);
      if (!outcome) continue;
      merged++;
      survivors.add(outcome.survivor.id);
      survivors.delete(outcome.absorbedId);
      absorbed.add(outcome.absorbedId);
      this.logger.log({
        msg: logMessage,
        survivor_id: outcome.survivor.id,
        absorbed_id: outcome.absorbedId,
        moved_items: outcome.movedItems,
        similarity: Number(pair.similarity.toFixed(4)),
      });
    }
    return { merged, survivors, absorbed };
  }

  /**
   * Up to `budget` members of the examined clusters (a random sample of each), each compared
   * by `planMoves` with its own cluster and its nearest clusters; moves are applied most gain
   * first by the mover, which re-checks each against fresh state.
   */
  private async moveMisplacedItems(
    states: readonly ClusterState[],
    budget: number,
    calibration: Calibration,
  ) {
    const members: Array<{ id: string; cluster: ClusterState }> = [];
    const read = this.redis.pipeline();
    const sampled = states.filter((s) => s.size >= 2);
    for (const state of sampled) read.srandmember(this.keys.clusters.items(state.id), budget);
    const replies = (await read.exec()) ?? [];
    sampled.forEach((cluster, i) => {
      const [error, ids] = replies[i];
      if (error) throw error;
      for (const id of ids as string[]) {
        if (members.length < budget) members.push({ id, cluster });
      }
    });
    if (members.length === 0) return { moved: 0, examined: 0 };

    // Items a person placed stay where they were put.
    const pinned = await this.pins.pinnedItems(members.map((m) => m.id));
    const vectors = await this.itemVectors.load(members.map((m) => m.id));
    const placed = members.flatMap(({ id, cluster }) => {
      const vector = vectors.get(id);
      return vector && !pinned.has(id) ? [{ id, clusterId: cluster.id, vector, cluster }] : [];
    });
    const neighbours = await this.index.candidates(
      placed.map((p) => p.vector),
      NEIGHBOURS,
    );
    const params = this.params.move;
    const slice = new TimeSlice();
    const planned: PlannedMove[] = [];
    for (let i = 0; i < placed.length; i++) {
      await slice.pause();
      const { cluster, ...item } = placed[i];
      const others = neighbours[i].filter((n) => n.id !== cluster.id);
      planned.push(...planMoves([item], [cluster, ...others], params, calibration));
    }
    planned.sort((a, b) => b.gain - a.gain);
    const outcome = await this.mover.apply(planned, this.embedder.model);
    if (outcome.moved > 0) this.logger.log({ msg: 'moved items', moved_items: outcome.moved });
    return { moved: outcome.moved, examined: members.length };
  }

  /** Adds the examined clusters whose summary is missing or stale (the pipeline's growth rule). */
  private async collectSummaryDue(states: readonly ClusterState[], due: Set<string>) {
    if (states.length === 0 || due.size >= this.env.SWEEP_MAX_SUMMARIES) return;
    const last = await this.redis.hmget(this.keys.service.summarizedAt, ...states.map((s) => s.id));
    states.forEach((s, i) => {
      if (due.size >= this.env.SWEEP_MAX_SUMMARIES) return;
      if (needsSummary(s.size, Number(last[i] ?? 0), this.env.RESUMMARIZE_GROWTH)) due.add(s.id);
    });
  }

  /**
   * Queues summaries for merged survivors (their content changed wholesale) and the stale
   * clusters found, up to SWEEP_MAX_SUMMARIES; the summary queue's workers write them.
   */
  private async refreshSummaries(
    model: string,
    ids: readonly string[],
    survivors: ReadonlySet<string>,
  ): Promise<number> {
    const limit = this.env.SWEEP_MAX_SUMMARIES;
    if (limit === 0 || ids.length === 0) return 0;
    const { live } = await this.store.load(ids.slice(0, limit), model);
    if (live.length === 0) return 0;
    const last = await this.redis.hmget(this.keys.service.summarizedAt, ...live.map((s) => s.id));
    await this.summaries.enqueue(
      live.map((state, i) => ({
        clusterId: state.id,
        // A merged survivor's summary describes half of it at best.
        priority: summaryPriority(state.size, survivors.has(state.id) ? 0 : Number(last[i] ?? 0)),
      })),
    );
    return live.length;
  }
}
