import Redis from 'ioredis';
import { decodeVectorRecord } from '../item-vectors/vector-record';
import { Keyspace } from '../redis/keyspace';
import { ClusterState } from '../ports/cluster-state';
import { ClusterStateStore } from './cluster-state.store';

/** What an update needs to know of the clusters its items leave. */
export interface CurrentMembership {
  /** item id -> the cluster it is a member of now (only items that are in one). */
  clusterOf: Map<string, string>;
  /** Those clusters' current state, for the ones made by the wanted model. */
  states: Map<string, ClusterState>;
  /** item id -> the vector it was clustered with (its old vector), where stored (ITEM_VECTORS). */
  oldVectors: Map<string, Float32Array>;
}

/**
 * Finds the cluster each item is in now, as `persist-batch.lua` decides it: the service's
 * record (`clustering:membership`) or the hash's `cluster_id`, whichever member set really
 * holds the item. Only updated items are found (a new item is in no cluster).
 */
export class ClusterMembership {
  private readonly store: ClusterStateStore;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {
    this.store = new ClusterStateStore(redis, keys);
  }

  async current(ids: readonly string[], model: string): Promise<CurrentMembership> {
    const empty = { clusterOf: new Map(), states: new Map(), oldVectors: new Map() };
    if (ids.length === 0) return empty;
    const recorded = await this.redis.hmget(this.keys.service.membership, ...ids);
    const read = this.redis.pipeline();
    for (const id of ids) read.hget(this.keys.feedback.item(id), 'cluster_id');
    const hashed = ((await read.exec()) ?? []).map(([error, value]) =>
      // A key of another type has no cluster_id; the pipeline parks such an item anyway.
      error ? null : (value as string | null),
    );
    const candidates = ids.flatMap((id, i) =>
      [...new Set([recorded[i], hashed[i]])]
        .filter((c): c is string => !!c)
        .map((clusterId) => ({ id, clusterId })),
    );
    if (candidates.length === 0) return empty;
    const check = this.redis.pipeline();
    for (const { id, clusterId } of candidates)
      check.sismember(this.keys.clusters.items(clusterId), id);
    const flags = (await check.exec()) ?? [];
    const clusterOf = new Map<string, string>();
    candidates.forEach(({ id, clusterId }, i) => {
      const [error, isMember] = flags[i];
      if (error) throw error;
      if (isMember === 1 && !clusterOf.has(id)) clusterOf.set(id, clusterId);
    });
    if (clusterOf.size === 0) return empty;

    const leaving = [...clusterOf.keys()];
    const { live } = await this.store.load([...new Set(clusterOf.values())], model);
    const records = await this.redis.hmgetBuffer(this.keys.service.itemVectors, ...leaving);
    const oldVectors = new Map<string, Float32Array>();
    leaving.forEach((id, i) => {
      // A vector of another model cannot be taken out of this model's centroid: a record of
      // another model's fingerprint decodes as absent. Embedders whose vectors are recomputed
      // store none, and the old text is gone: such a departure only lowers the size.
      const record = records[i];
      const vector = record ? decodeVectorRecord(record, model) : undefined;
      if (vector) oldVectors.set(id, vector);
    });
    return { clusterOf, states: new Map(live.map((s) => [s.id, s])), oldVectors };
  }
}
