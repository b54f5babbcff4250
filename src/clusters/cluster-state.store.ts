import Redis from 'ioredis';
import { unpackVector } from '../pipeline/assign/vector-math';
import { ClusterKeys, ServiceKeys } from '../redis/keys';
import { ClusterState } from './cluster-state';

/** Cluster changes recorded after a given sequence number. */
export interface ClusterChangeFeed {
  /** The latest sequence number included. */
  seq: number;
  /** Live clusters of the wanted model, in their current state. */
  live: ClusterState[];
  /** Clusters that are gone (merged, deleted) or were made by another embedding model. */
  removedIds: string[];
  /**
   * The sequence went backwards (FLUSHDB, failover to an empty replica): the feed was read
   * from the start and `live` is every live cluster; the reader drops everything it held.
   */
  reset: boolean;
}

/**
 * Reads cluster state from Redis: the centroids and anchors the persist stage keeps
 * under `clustering:` and the change feed (a sequence number per change) that lets
 * every replica's index catch up with changes made by the others.
 */
export class ClusterStateStore {
  constructor(private readonly redis: Redis) {}

  /** Changes after `afterSeq` (0 = everything), limited to clusters made by `model`. */
  async changesSince(afterSeq: number, model: string): Promise<ClusterChangeFeed> {
    const seqNow = Number((await this.redis.get(ServiceKeys.indexSeq)) ?? 0);
    // The sequence only grows; smaller than what was seen means the data was replaced.
    const reset = seqNow < afterSeq;
    const from = reset ? 0 : afterSeq;
    if (seqNow <= from) return { seq: seqNow, live: [], removedIds: [], reset };
    const ids = await this.redis.zrangebyscore(ServiceKeys.indexChanges, `(${from}`, seqNow);
    const { live, removedIds } = await this.load(ids, model);
    return { seq: seqNow, live, removedIds, reset };
  }

  /** Current state of the given clusters; ids not live or of another model come back removed. */
  async load(
    ids: readonly string[],
    model: string,
  ): Promise<{ live: ClusterState[]; removedIds: string[] }> {
    const live: ClusterState[] = [];
    const removedIds: string[] = [];
    const CHUNK = 500;
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const pipeline = this.redis.pipeline();
      for (const id of chunk) {
        pipeline.hmget(ClusterKeys.cluster(id), 'status', 'size', 'embedding_model');
        pipeline.sismember(ClusterKeys.all, id);
      }
      pipeline.hmgetBuffer(ServiceKeys.centroids, ...chunk);
      pipeline.hmgetBuffer(ServiceKeys.anchors, ...chunk);
      const replies = (await pipeline.exec()) ?? [];
      const centroids = replies[chunk.length * 2][1] as (Buffer | null)[];
      const anchors = replies[chunk.length * 2 + 1][1] as (Buffer | null)[];
      chunk.forEach((id, i) => {
        const [status, size, clusterModel] = replies[i * 2][1] as (string | null)[];
        const isLive = replies[i * 2 + 1][1] === 1;
        const centroid = centroids[i];
        const anchor = anchors[i];
        if (!isLive || status === 'merged' || clusterModel !== model || !centroid || !anchor) {
          removedIds.push(id);
          return;
        }
        live.push({
          id,
          centroid: unpackVector(centroid),
          anchor: unpackVector(anchor),
          size: Number(size ?? 0),
        });
      });
    }
    return { live, removedIds };
  }
}
