import Redis from 'ioredis';
import { LiveClusters } from './live-clusters';
import { decodeVectorRecord } from '../item-vectors/vector-record';
import { unpackVector } from '../math/vector-math';
import { Keyspace } from '../redis/keyspace';
import { ClusterState } from '../ports/cluster-state';

/** Cluster changes recorded after a given sequence number. */
export interface ClusterChangeFeed {
  /** The latest sequence number included. */
  seq: number;
  /** Live clusters of the wanted model, in their current state. */
  live: ClusterState[];
  /** Clusters that are gone (merged, deleted) or were made by another embedding model. */
  removedIds: string[];
  /**
   * The feed was read from the start, `live` is every live cluster, and the reader drops
   * everything it held: the sequence went backwards (FLUSHDB, failover to an empty replica), or
   * the feed was pruned past where the reader was (see KeyPruner).
   */
  reset: boolean;
}

/**
 * Reads cluster state from Redis: the centroid from the cluster hash (the contract's JSON
 * field, the only copy kept), the anchor the persist stage keeps under `clustering:` and the
 * change feed (a sequence number per change) that lets every replica's index catch up with
 * changes made by the others.
 */
export class ClusterStateStore {
  private readonly live: LiveClusters;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {
    this.live = new LiveClusters(redis, keys);
  }

  /**
   * Changes after `afterSeq` (0 = everything), limited to clusters made by `model`. A reader
   * further behind than the feed's pruning (`clustering:index:pruned-seq`, see KeyPruner) gets
   * everything, marked `reset`.
   */
  async changesSince(afterSeq: number, model: string): Promise<ClusterChangeFeed> {
    const [seqText, prunedText] = await this.redis.mget(
      this.keys.service.indexSeq,
      this.keys.service.indexPrunedSeq,
    );
    const seqNow = Number(seqText ?? 0);
    // The sequence only grows; smaller than what was seen means the data was replaced. A reader
    // behind the pruning cannot see the removals it missed.
    const reset = seqNow < afterSeq || (afterSeq > 0 && afterSeq < Number(prunedText ?? 0));
    const from = reset ? 0 : afterSeq;
    if (seqNow <= from) return { seq: seqNow, live: [], removedIds: [], reset };
    const ids = await this.redis.zrangebyscore(this.keys.service.indexChanges, `(${from}`, seqNow);
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
    const CHUNK = 100;
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const pipeline = this.redis.pipeline();
      for (const id of chunk) {
        pipeline.hmget(
          this.keys.clusters.cluster(id),
          'status',
          'size',
          'embedding_model',
          'centroid',
        );
        this.live.queueCheck(pipeline, id);
      }
      pipeline.hmgetBuffer(this.keys.service.anchors, ...chunk);
      const replies = (await pipeline.exec()) ?? [];
      const anchors = replies[chunk.length * 2][1] as (Buffer | null)[];
      chunk.forEach((id, i) => {
        const [status, size, clusterModel, centroidText] = replies[i * 2][1] as (string | null)[];
        const isLive = this.live.isLiveReply(replies[i * 2 + 1][1]);
        const centroid =
          isLive && status !== 'merged' && clusterModel === model
            ? parseCentroid(centroidText)
            : undefined;
        const anchor = centroid && readAnchor(anchors[i], model, centroid.length);
        if (!centroid || !anchor) {
          removedIds.push(id);
          return;
        }
        live.push({ id, centroid, anchor, size: Number(size ?? 0) });
      });
    }
    return { live, removedIds };
  }
}

/** The `centroid` field as a vector; undefined when missing or not an array of numbers. */
function parseCentroid(text: string | null): Float32Array | undefined {
  if (!text) return undefined;
  try {
    const values: unknown = JSON.parse(text);
    if (!Array.isArray(values) || values.length === 0) return undefined;
    if (!values.every((x) => typeof x === 'number')) return undefined;
    return Float32Array.from(values);
  } catch {
    return undefined;
  }
}

/** An anchor record of `model`, or one written as raw float32 before anchors were int8. */
function readAnchor(
  record: Buffer | null,
  model: string,
  dimensions: number,
): Float32Array | undefined {
  if (!record) return undefined;
  if (record.length === dimensions * 4) return unpackVector(record);
  const anchor = decodeVectorRecord(record, model);
  return anchor?.length === dimensions ? anchor : undefined;
}
