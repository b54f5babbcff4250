import { randomUUID } from 'node:crypto';
import { CalibrationSource } from '../../calibration/calibration-source';
import { CandidateProposals, VectorIndex } from '../../ports/vector-index.port';
import { FeedbackRepository } from '../../feedback/feedback.repository';
import { BatchPersister, PersistResult } from '../persist/batch-persister';
import { AssignmentLock } from '../../clusters/assignment-lock';
import { ClusterMembership } from '../../clusters/cluster-membership';
import { ClusterState } from '../../ports/cluster-state';
import { StoredSummary } from '../summarize/summarize-stage';
import { AssignmentPlan, AssignParams, ClusterChange, assignBatch } from './assign-batch';
import { candidatesAfterDepartures, statesAfterDepartures } from './departures';

export interface EmbeddedItem {
  id: string;
  source: string;
  vector: Float32Array;
}

/** The text of the clusters a plan founds, written with them (under the lock: no slow work). */
export type DescribeNewClusters = (
  changes: readonly ClusterChange[],
) => Promise<ReadonlyMap<string, StoredSummary>>;

export interface AssignOutcome {
  plan: AssignmentPlan;
  persisted: PersistResult;
  /** Offered but already clustered by the time the lock was taken. */
  alreadyClustered: string[];
  /**
   * Clusters that updated items left and nothing joined, with their state after (size 0:
   * emptied and retired); no state for a cluster of another embedding model.
   */
  shrunk: Array<{ id: string; state?: ClusterState }>;
}

export interface AssignStageOptions extends AssignParams {
  candidatesK: number;
}

/** What `detach` did: the clusters parked items left (see AssignOutcome.shrunk). */
export interface DetachOutcome {
  shrunk: AssignOutcome['shrunk'];
  /** The change feed's sequence after the write (undefined when nothing was written). */
  seq?: number;
}

/**
 * Assigns embedded items to clusters and persists them, under the assignment lock.
 * The lock makes "read the clusters, decide, write" one step across all replicas, so two
 * replicas racing on similar new items never open two clusters; the lock's token fences
 * the write, so a holder that stalled past expiry writes nothing.
 */
export class AssignStage {
  constructor(
    private readonly lock: AssignmentLock,
    private readonly index: VectorIndex,
    private readonly feedback: FeedbackRepository,
    private readonly membership: ClusterMembership,
    private readonly persister: BatchPersister,
    private readonly calibration: CalibrationSource,
    private readonly model: string,
    private readonly options: AssignStageOptions,
  ) {}

  async run(
    items: readonly EmbeddedItem[],
    describeNew: DescribeNewClusters,
  ): Promise<AssignOutcome> {
    await this.calibration.prepare();
    // Catch up outside the lock: a cold start loads every cluster (100,000 take tens of
    // seconds), which would stall every other writer for as long (the heartbeat keeps the
    // lock of a slow holder). Under the lock, the refresh below reads only what changed since.
    await this.index.refresh();
    // A remote index is asked before the lock: a slow or failing provider never holds it.
    const proposals = await this.index.propose?.(
      items.map((i) => i.vector),
      this.options.candidatesK,
    );
    return this.lock.run(async (lease) => {
      const waiting = await this.feedback.stillWaiting(items.map((i) => i.id));
      const isWaiting = items.map((i) => waiting.has(i.id));
      const todo = items.filter((_, i) => isWaiting[i]);
      const alreadyClustered = items.filter((_, i) => !isWaiting[i]).map((i) => i.id);
      await this.index.refresh();
      // Updated items leave their old clusters before they are assigned anew (CONTRACT §1),
      // so those clusters are judged, and written, without them.
      const current = await this.membership.current(
        todo.map((i) => i.id),
        this.model,
      );
      const after = statesAfterDepartures(current.clusterOf, current.states, current.oldVectors);
      const candidates = candidatesAfterDepartures(
        await this.index.candidates(
          todo.map((i) => i.vector),
          this.options.candidatesK,
          proposalsFor(proposals, isWaiting),
        ),
        after,
      );
      // The batch's own items refine the calibration before they are judged on it, so the first
      // items of a model bootstrap it without waiting for more.
      const calibration = await this.calibration.current(todo.map((i) => i.vector));
      const plan = assignBatch(todo, candidates, this.options, calibration, randomUUID);
      const shrunk = shrunkClusters(current.clusterOf, after, plan);
      const persisted = await this.persister.persist(lease, {
        plan,
        vectors: new Map(todo.map((i) => [i.id, i.vector])),
        sources: new Map(todo.map((i) => [i.id, i.source])),
        newClusterText: await describeNew(plan.changes),
        model: this.model,
        departures: current.clusterOf,
        shrunk,
      });
      // A statistic, not state: a save lost to a crash only leaves out this batch's items.
      if (todo.length > 0) await this.calibration.save(calibration);
      return { plan, persisted, alreadyClustered, shrunk };
    });
  }

  /**
   * Takes updated items that will not be clustered again as they are (parked: their new text
   * is unreadable) out of the clusters they are in, so none counts them while they wait.
   * Takes the lock only when one of them is in a cluster.
   */
  async detach(ids: readonly string[]): Promise<DetachOutcome> {
    if ((await this.membership.current(ids, this.model)).clusterOf.size === 0)
      return { shrunk: [] };
    return this.lock.run(async (lease) => {
      const waiting = await this.feedback.stillWaiting(ids);
      const current = await this.membership.current(
        ids.filter((id) => waiting.has(id)),
        this.model,
      );
      if (current.clusterOf.size === 0) return { shrunk: [] };
      const plan: AssignmentPlan = { assignments: [], changes: [] };
      const after = statesAfterDepartures(current.clusterOf, current.states, current.oldVectors);
      const shrunk = shrunkClusters(current.clusterOf, after, plan);
      const persisted = await this.persister.persist(lease, {
        plan,
        vectors: new Map(),
        sources: new Map(),
        newClusterText: new Map(),
        model: this.model,
        departures: current.clusterOf,
        shrunk,
      });
      return { shrunk, seq: persisted.seq };
    });
  }
}

/** The clusters items leave that the plan does not grow, with their state after. */
function shrunkClusters(
  clusterOf: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, ClusterState>,
  plan: AssignmentPlan,
): AssignOutcome['shrunk'] {
  const grown = new Set(plan.changes.map((c) => c.state.id));
  return [...new Set(clusterOf.values())]
    .filter((id) => !grown.has(id))
    .map((id) => ({ id, state: after.get(id) }));
}

/** The proposals of the items kept, in their order. */
function proposalsFor(
  proposals: CandidateProposals | undefined,
  kept: readonly boolean[],
): CandidateProposals | undefined {
  if (proposals === undefined || proposals === 'unavailable') return proposals;
  return proposals.filter((_, i) => kept[i]);
}
