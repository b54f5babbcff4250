import Redis from 'ioredis';
import { ClusterState } from '../../ports/cluster-state';
import { LockLease, LockLostError } from '../../redis/distributed-lock';
import { Keyspace } from '../../redis/keyspace';
import { runScript } from '../../redis/lua-scripts';
import { AssignmentPlan } from '../assign/assign-batch';
import { StoredSummary } from '../summarize/summarize-stage';
import { encodeInt8Record } from '../../item-vectors/vector-record';
import { ItemVectors } from '../../item-vectors/item-vectors';

/** What persist needs besides the plan: per item its vector and source, per new cluster its text. */
export interface PersistInput {
  plan: AssignmentPlan;
  vectors: ReadonlyMap<string, Float32Array>;
  sources: ReadonlyMap<string, string>;
  /** Title, summary and issue of each cluster the plan founds (written with it: never untitled). */
  newClusterText: ReadonlyMap<string, StoredSummary>;
  model: string;
  /**
   * Updated items: item id -> the cluster it leaves (CONTRACT §1 "Updates"). An item here
   * that the plan does not assign leaves without joining (its new text cannot be clustered).
   */
  departures?: ReadonlyMap<string, string>;
  /**
   * Clusters that only lose items, with their state after the departures (size 0 when the
   * last item leaves); `state` is absent for a cluster of another embedding model, whose
   * centroid this model cannot correct (only its members and size change).
   */
  shrunk?: ReadonlyArray<{ id: string; state?: ClusterState }>;
}

/** Which clusters the persist script puts in the summary queue (see persist-batch.lua). */
export interface SummaryQueueing {
  /** New clusters too (a model rewrites their extractive text), not only grown ones. */
  queueNew: boolean;
  /** Growth since the last summary, as a fraction, that makes a cluster due again. */
  growth: number;
}

/** The fields persist-batch.lua writes for a new cluster. */
function clusterText(summary: StoredSummary | undefined) {
  const title = summary?.title ?? 'New feedback cluster';
  return {
    title,
    summary: summary?.summary ?? '',
    issue_title: summary?.issueTitle ?? title,
    issue_description: summary?.issueDescription ?? '',
    summary_model: summary?.summaryModel ?? 'none',
    github_repo_url: summary?.githubRepoUrl ?? '',
  };
}

export interface PersistResult {
  clustered: number;
  /** Items that were no longer waiting when the script ran (replays, races): nothing written. */
  skippedIds: string[];
  /** The cluster change feed's sequence number after this write (one step per cluster written). */
  seq: number;
}

/** Centroid JSON for the contract's `centroid` field; six decimals keep it compact and exact enough. */
function centroidJson(v: Float32Array): string {
  return JSON.stringify(Array.from(v, (x) => Math.round(x * 1e6) / 1e6));
}

/** Writes an assignment plan with one atomic script call (`persist-batch.lua`). */
export class BatchPersister {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly itemVectors: ItemVectors,
    private readonly summaries: SummaryQueueing,
  ) {}

  async persist(lease: LockLease, input: PersistInput): Promise<PersistResult> {
    const { plan } = input;
    const extraArgs: Array<Buffer | string> = [];
    // ARGV[1..4] are fixed; vectors and centroid texts follow, addressed by 1-based ARGV index.
    const argIndex = (value: Buffer | string) => {
      extraArgs.push(value);
      return 4 + extraArgs.length;
    };
    // An emptied cluster (size 0) needs no centroid: the script retires it.
    const centroidArgs = (state: ClusterState | undefined) =>
      state && state.size > 0
        ? { centroidJsonArg: argIndex(centroidJson(state.centroid)) }
        : { centroidJsonArg: 0 };
    const grown = plan.changes.map((change) => {
      const sources = [
        ...new Set(change.addedItemIds.map((id) => input.sources.get(id) ?? 'unknown')),
      ];
      return {
        id: change.state.id,
        created: change.created,
        sources,
        ...(change.created && { text: clusterText(input.newClusterText.get(change.state.id)) }),
        ...centroidArgs(change.state),
        anchorArg: change.created
          ? argIndex(encodeInt8Record(change.state.anchor, input.model))
          : 0,
      };
    });
    const shrunk = (input.shrunk ?? []).map(({ id, state }) => ({
      id,
      created: false,
      sources: [] as string[],
      title: '',
      ...centroidArgs(state),
      anchorArg: 0,
    }));
    const items = plan.assignments.map((a) => {
      const vector = input.vectors.get(a.itemId);
      if (!vector) throw new Error(`no vector for item ${a.itemId}`);
      const record = this.itemVectors.encode(vector);
      return {
        id: a.itemId,
        clusterId: a.clusterId,
        vectorArg: record ? argIndex(record) : 0,
        from: input.departures?.get(a.itemId),
      };
    });
    const clusters = [...grown, ...shrunk];
    const assigned = new Set(items.map((i) => i.id));
    const leaves = [...(input.departures ?? [])]
      .filter(([id]) => !assigned.has(id))
      .map(([id, from]) => ({ id, from }));
    const now = new Date();
    const keys = [
      this.keys.service.assignLock,
      this.keys.feedback.unclustered,
      this.keys.clusters.all,
      this.keys.service.indexSeq,
      this.keys.service.indexChanges,
      this.keys.service.centroids,
      this.keys.service.anchors,
      this.keys.service.itemVectors,
      this.keys.service.itemModels,
      this.keys.service.membership,
      this.keys.service.summaryQueue,
      this.keys.service.summarizedAt,
    ];
    const args = [
      lease.token,
      now.toISOString(),
      input.model,
      JSON.stringify({
        nowSeconds: Math.floor(now.getTime() / 1000),
        clusters,
        items,
        leaves,
        summaries: this.summaries,
      }),
      ...extraArgs,
    ];
    try {
      const [clustered, skipped, seq] = (await runScript(
        this.redis,
        'persistBatch',
        keys,
        args,
        this.keys,
      )) as [number, string, number];
      const skippedIds: unknown = JSON.parse(skipped);
      return {
        clustered,
        skippedIds: Array.isArray(skippedIds) ? (skippedIds as string[]) : [],
        seq,
      };
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('FENCED')) {
        throw new LockLostError('the assignment lock expired before the batch was written', {
          cause: error,
        });
      }
      throw error;
    }
  }
}
