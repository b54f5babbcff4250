import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { ClusterState } from '../ports/cluster-state';
import { ClusterStateStore } from '../clusters/cluster-state.store';
import { mergeMeans } from '../math/vector-math';
import { Keyspace } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { VECTOR_INDEX, VectorIndex } from '../ports/vector-index.port';
import { AssignmentLock } from '../clusters/assignment-lock';
import { ControlPins } from '../control/pins';
import { centroidJson } from './centroid-json';
import { MergePair, survivorFirst } from './merge-plan';

/** The KEYS of `merge-clusters.lua`, in its order. */
export function mergeClustersKeys(keys: Keyspace): string[] {
  return [
    keys.service.assignLock,
    keys.clusters.all,
    keys.service.indexSeq,
    keys.service.indexChanges,
    keys.service.centroids,
    keys.service.anchors,
    keys.service.membership,
    keys.service.keptApart,
    keys.service.pinnedItems,
    keys.service.summaryQueue,
    keys.service.audit,
  ];
}

/** A merge as executed: the survivor's new state, the absorbed id and the items moved. */
export interface MergeOutcome {
  survivor: ClusterState;
  absorbedId: string;
  movedItems: number;
}

/**
 * Executes planned merges (of near-duplicates, or absorptions of small clusters), one at a time
 * under the assignment lock. The plan was made from
 * state read without the lock, so each pair is checked again with fresh state before the
 * atomic write (`merge-clusters.lua`); a pair that no longer qualifies, or that a person kept
 * apart (src/control), is left alone.
 */
@Injectable()
export class ClusterMerger {
  private readonly store: ClusterStateStore;
  private readonly pins: ControlPins;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    private readonly lock: AssignmentLock,
  ) {
    this.store = new ClusterStateStore(redis, keys);
    this.pins = new ControlPins(redis, keys);
  }

  /**
   * @param qualifies whether the pair (survivor, absorbed), read again under the lock, still
   *   qualifies for the rule that planned it
   */
  async merge(
    pair: MergePair,
    model: string,
    qualifies: (survivor: ClusterState, absorbed: ClusterState) => boolean,
  ): Promise<MergeOutcome | undefined> {
    const outcome = await this.lock.run(async (lease) => {
      const fresh = await this.freshStates([pair.survivorId, pair.absorbedId], model);
      if (fresh.length !== 2) return undefined;
      const [survivor, absorbed] = survivorFirst(fresh[0], fresh[1]);
      if (survivor.id !== pair.survivorId || !qualifies(survivor, absorbed)) return undefined;
      // Read under the lock: a person's split since the plan was made is respected.
      if (await this.pins.keptApart(survivor.id, absorbed.id)) return undefined;
      const centroid = mergeMeans(
        survivor.centroid,
        survivor.size,
        absorbed.centroid,
        absorbed.size,
      );
      const movedItems = (await runScript(
        this.redis,
        'mergeClusters',
        mergeClustersKeys(this.keys),
        [
          lease.token,
          survivor.id,
          absorbed.id,
          survivor.size,
          absorbed.size,
          new Date().toISOString(),
          centroidJson(centroid),
        ],
        this.keys,
      )) as number;
      return {
        survivor: { ...survivor, centroid, size: survivor.size + absorbed.size },
        absorbedId: absorbed.id,
        movedItems,
      };
    });
    if (outcome) await this.index.clustersChanged([outcome.survivor], [outcome.absorbedId]);
    return outcome;
  }

  /** Live states of `ids`, with sizes as the member sets count them (what the script checks). */
  private async freshStates(ids: string[], model: string): Promise<ClusterState[]> {
    const { live } = await this.store.load(ids, model);
    const sizes = await Promise.all(
      live.map((s) => this.redis.scard(this.keys.clusters.items(s.id))),
    );
    return live.map((state, i) => ({ ...state, size: sizes[i] }));
  }
}
