import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import Redis from 'ioredis';
import { AssignmentLock } from '../clusters/assignment-lock';
import { ClusterMembership } from '../clusters/cluster-membership';
import { ClusterStateStore } from '../clusters/cluster-state.store';
import { MAX_SOURCE_CHARS } from '../feedback/feedback-item';
import { encodeInt8Record } from '../item-vectors/vector-record';
import { ItemVectors } from '../item-vectors/item-vectors';
import { dot, meanWith, mergeMeans } from '../math/vector-math';
import { ClusterState } from '../ports/cluster-state';
import { EMBEDDER, Embedder } from '../ports/embedder.port';
import { VECTOR_INDEX, VectorIndex } from '../ports/vector-index.port';
import { KeptLease, LockLostError, LockTimeoutError } from '../redis/distributed-lock';
import { Keyspace } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { centroidJson } from '../sweep/centroid-json';
import { mergeClustersKeys } from '../sweep/cluster-merger';
import { moveItemsKeys } from '../sweep/item-mover';
import { removeFromMean } from '../sweep/move-plan';
import { summaryPriority } from '../summaries/summary-queue';
import { AuditLog, AuditRecord, AUDIT_MAX_LEN } from './audit-log';

/**
 * A person's changes to the clustering: merge a cluster into another, split items off into a
 * new cluster, move one item. Each runs under the assignment lock (so no batch or sweep writes
 * in between), reads fresh state, computes the centroids as exact means of the members'
 * vectors, and writes with one fenced script (`merge-clusters.lua`, `move-items.lua`) that also
 * bumps the change feed, queues summaries, pins the decision for the sweeps and appends the
 * audit record (`lua/includes/control.lua`).
 */
@Injectable()
export class ClusterControl {
  private readonly store: ClusterStateStore;
  private readonly membership: ClusterMembership;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    private readonly lock: AssignmentLock,
    private readonly itemVectors: ItemVectors,
  ) {
    this.store = new ClusterStateStore(redis, keys);
    this.membership = new ClusterMembership(redis, keys);
  }

  /** Merges cluster `id` into `into` (which keeps its id). */
  async merge(id: string, into: string): Promise<AuditRecord> {
    if (id === into) throw new ConflictException('a cluster cannot be merged into itself');
    const { survivor, record } = await this.locked(async (lease) => {
      const [absorbed, target] = await this.liveStates([id, into]);
      const centroid = mergeMeans(target.centroid, target.size, absorbed.centroid, absorbed.size);
      const size = target.size + absorbed.size;
      const audit = this.auditFields('merge', into, id, absorbed.size);
      const [, auditId] = (await runScript(
        this.redis,
        'mergeClusters',
        mergeClustersKeys(this.keys),
        [
          lease.token,
          into,
          id,
          target.size,
          absorbed.size,
          audit.at,
          centroidJson(centroid),
          // The survivor's summary describes part of it at best.
          JSON.stringify(
            this.controlRecord(audit, { summaries: [[into, summaryPriority(size, 0)]] }),
          ),
        ],
        this.keys,
      )) as [number, string];
      return { survivor: { ...target, centroid, size }, record: { id: auditId, ...audit } };
    });
    await this.index.clustersChanged([survivor], [id]);
    return record;
  }

  /** Moves `itemIds` (members of `id`, not all of them) into a new cluster kept apart from it. */
  async split(id: string, itemIds: readonly string[]): Promise<AuditRecord> {
    const { touched, record } = await this.locked(async (lease) => {
      const [origin] = await this.liveStates([id]);
      const isMember = await this.redis.smismember(this.keys.clusters.items(id), ...itemIds);
      const strangers = itemIds.filter((_, i) => isMember[i] !== 1);
      if (strangers.length > 0) {
        await this.requireItems(strangers);
        throw new ConflictException(`not members of cluster ${id}: ${strangers.join(', ')}`);
      }
      if (itemIds.length >= origin.size) {
        throw new ConflictException('a split must leave at least one item in the cluster');
      }
      const vectors = await this.vectorsOf(itemIds, origin);
      let rest = origin.centroid;
      let split: Float32Array = new Float32Array(origin.centroid.length);
      vectors.forEach((v, i) => {
        rest = removeFromMean(rest, origin.size - i, v);
        split = meanWith(split, i, v);
      });
      // Its anchor is the leaving item most like the rest of them, as a founder would be.
      const anchor = vectors.reduce((best, v) => (dot(v, split) > dot(best, split) ? v : best));
      const newId = randomUUID();
      const title = await this.redis.hget(this.keys.clusters.cluster(id), 'title');
      const splitTitle = `Split from: ${title ?? id}`;
      const audit = { ...this.auditFields('split', newId, id, itemIds.length), item_ids: itemIds };
      const plan = {
        moves: itemIds.map((item) => ({ item, from: id, to: newId })),
        clusters: [
          { id, size: origin.size, centroid: centroidJson(rest) },
          { id: newId, size: 0, centroid: centroidJson(split) },
        ],
        sourceChars: MAX_SOURCE_CHARS,
        found: {
          id: newId,
          model: this.embedder.model,
          nowSeconds: Math.floor(Date.parse(audit.at) / 1000),
          text: {
            title: splitTitle,
            summary: '',
            issue_title: splitTitle,
            issue_description: '',
            summary_model: 'none',
          },
        },
        control: this.controlRecord(audit, {
          pinItems: Object.fromEntries(itemIds.map((item) => [item, newId])),
          apart: [[id, newId]],
          summaries: [
            [id, summaryPriority(origin.size - itemIds.length, 0)],
            [newId, summaryPriority(itemIds.length, 0)],
          ],
        }),
      };
      const auditId = await this.moveItems(lease, audit.at, plan, [
        encodeInt8Record(anchor, this.embedder.model),
      ]);
      const touched: ClusterState[] = [
        { ...origin, centroid: rest, size: origin.size - itemIds.length },
        { id: newId, centroid: split, anchor, size: itemIds.length },
      ];
      return { touched, record: { id: auditId, ...audit } };
    });
    await this.index.clustersChanged(touched, []);
    return record;
  }

  /** Moves feedback `itemId` into cluster `to`; no sweep moves it afterwards. */
  async move(itemId: string, to: string): Promise<AuditRecord> {
    const { touched, record } = await this.locked(async (lease) => {
      await this.requireItems([itemId]);
      const [target] = await this.liveStates([to]);
      const from = (await this.membership.current([itemId], this.embedder.model)).clusterOf.get(
        itemId,
      );
      if (from === undefined) throw new ConflictException(`feedback ${itemId} is in no cluster`);
      if (from === to)
        throw new ConflictException(`feedback ${itemId} is in cluster ${to} already`);
      const [origin] = await this.liveStates([from]);
      if (origin.size <= 1) {
        throw new ConflictException(
          `feedback ${itemId} is the only item of cluster ${from}: merge that cluster instead`,
        );
      }
      const [vector] = await this.vectorsOf([itemId], origin);
      const left = { ...origin, centroid: removeFromMean(origin.centroid, origin.size, vector) };
      const joined = { ...target, centroid: meanWith(target.centroid, target.size, vector) };
      left.size -= 1;
      joined.size += 1;
      const summarizedAt = await this.redis.hmget(this.keys.service.summarizedAt, from, to);
      const audit = { ...this.auditFields('move', to, from, 1), item_ids: [itemId] };
      const plan = {
        moves: [{ item: itemId, from, to }],
        clusters: [
          { id: from, size: origin.size, centroid: centroidJson(left.centroid) },
          { id: to, size: target.size, centroid: centroidJson(joined.centroid) },
        ],
        sourceChars: MAX_SOURCE_CHARS,
        control: this.controlRecord(audit, {
          pinItems: { [itemId]: to },
          summaries: [left, joined].map((s, i) => [
            s.id,
            summaryPriority(s.size, Number(summarizedAt[i] ?? 0)),
          ]),
        }),
      };
      const auditId = await this.moveItems(lease, audit.at, plan, []);
      return { touched: [left, joined], record: { id: auditId, ...audit } };
    });
    await this.index.clustersChanged(touched, []);
    return record;
  }

  /**
   * Runs `work` under the assignment lock; a lock not had in time, or lost (the script refused
   * the token), is a 503 with nothing written, and a script's CONFLICT a 409.
   */
  private async locked<T>(work: (lease: KeptLease) => Promise<T>): Promise<T> {
    try {
      return await this.lock.run(work);
    } catch (error) {
      if (error instanceof LockTimeoutError || error instanceof LockLostError) {
        throw new ServiceUnavailableException('clustering is busy; try again');
      }
      const message = error instanceof Error ? error.message : '';
      if (message.startsWith('FENCED')) {
        throw new ServiceUnavailableException('clustering is busy; try again');
      }
      if (message.startsWith('CONFLICT')) throw new ConflictException(message.slice(9));
      throw error;
    }
  }

  /** Live states of `ids` of the current model, sizes as the member sets count them. */
  private async liveStates(ids: readonly string[]): Promise<ClusterState[]> {
    const exists = await Promise.all(
      ids.map((id) => this.redis.exists(this.keys.clusters.cluster(id))),
    );
    const unknown = ids.filter((_, i) => exists[i] === 0);
    if (unknown.length > 0) throw new NotFoundException(`no cluster ${unknown.join(', ')}`);
    const { live } = await this.store.load(ids, this.embedder.model);
    const byId = new Map(live.map((s) => [s.id, s]));
    const gone = ids.filter((id) => !byId.has(id));
    if (gone.length > 0) {
      throw new ConflictException(`cluster ${gone.join(', ')} is not live (merged or emptied)`);
    }
    const sizes = await Promise.all(
      ids.map((id) => this.redis.scard(this.keys.clusters.items(id))),
    );
    return ids.map((id, i) => ({ ...(byId.get(id) as ClusterState), size: sizes[i] }));
  }

  private async requireItems(itemIds: readonly string[]): Promise<void> {
    const exists = await Promise.all(
      itemIds.map((id) => this.redis.exists(this.keys.feedback.item(id))),
    );
    const unknown = itemIds.filter((_, i) => exists[i] === 0);
    if (unknown.length > 0) throw new NotFoundException(`no feedback ${unknown.join(', ')}`);
  }

  /** The vectors of `itemIds`, in order; a 409 when one is not to be had (the mean needs it). */
  private async vectorsOf(itemIds: readonly string[], cluster: ClusterState) {
    const found = await this.itemVectors.load(itemIds);
    return itemIds.map((id) => {
      const vector = found.get(id);
      if (!vector || vector.length !== cluster.centroid.length) {
        throw new ConflictException(`no vector of the current model for feedback ${id}`);
      }
      return vector;
    });
  }

  private async moveItems(
    lease: KeptLease,
    now: string,
    plan: object,
    records: Buffer[],
  ): Promise<string> {
    const [, auditId] = (await runScript(
      this.redis,
      'moveItems',
      moveItemsKeys(this.keys),
      [lease.token, now, JSON.stringify(plan), ...records],
      this.keys,
    )) as [number, string];
    return auditId;
  }

  private auditFields(action: string, clusterId: string, fromId: string, moved: number) {
    return {
      action,
      at: new Date().toISOString(),
      cluster_id: clusterId,
      from_cluster_id: fromId,
      moved_items: moved,
    };
  }

  /** What `control.record` (lua/includes/control.lua) writes with the change. */
  private controlRecord(
    audit: Omit<AuditRecord, 'id'>,
    pins: {
      pinItems?: Record<string, string>;
      apart?: string[][];
      summaries: Array<Array<string | number>>;
    },
  ) {
    return { ...pins, audit: AuditLog.fields(audit), auditMaxLen: AUDIT_MAX_LEN };
  }
}
