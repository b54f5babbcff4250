import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { ClusterState } from '../ports/cluster-state';
import { ClusterStateStore } from '../clusters/cluster-state.store';
import { MAX_SOURCE_CHARS } from '../feedback/feedback-item';
import { ItemVectors } from '../item-vectors/item-vectors';
import { meanWith } from '../math/vector-math';
import { Keyspace } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { VECTOR_INDEX, VectorIndex } from '../ports/vector-index.port';
import { AssignmentLock } from '../clusters/assignment-lock';
import { centroidJson } from './centroid-json';
import { PlannedMove, removeFromMean } from './move-plan';

/** The KEYS of `move-items.lua`, in its order. */
export function moveItemsKeys(keys: Keyspace): string[] {
  return [
    keys.service.assignLock,
    keys.clusters.all,
    keys.service.indexSeq,
    keys.service.indexChanges,
    keys.service.centroids,
    keys.service.membership,
    keys.service.anchors,
    keys.service.keptApart,
    keys.service.pinnedItems,
    keys.service.summaryQueue,
    keys.service.audit,
  ];
}

/** Moves written per script call (and per hold of the assignment lock). */
const MOVES_PER_WRITE = 100;

/** What a set of moves did: how many items moved and the clusters they touched. */
export interface MovesOutcome {
  moved: number;
  touched: ClusterState[];
}

/**
 * Executes planned moves under the assignment lock, in bounded chunks. Each chunk re-reads
 * the clusters it touches, drops moves that no longer apply, updates the centroids move by
 * move and writes everything with one atomic script (`move-items.lua`).
 */
@Injectable()
export class ItemMover {
  private readonly store: ClusterStateStore;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    private readonly lock: AssignmentLock,
    private readonly itemVectors: ItemVectors,
  ) {
    this.store = new ClusterStateStore(redis, keys);
  }

  async apply(moves: readonly PlannedMove[], model: string): Promise<MovesOutcome> {
    let moved = 0;
    const touched = new Map<string, ClusterState>();
    for (let start = 0; start < moves.length; start += MOVES_PER_WRITE) {
      const chunk = moves.slice(start, start + MOVES_PER_WRITE);
      const outcome = await this.lock.run((lease) => this.write(lease.token, chunk, model));
      moved += outcome.moved;
      for (const state of outcome.touched) touched.set(state.id, state);
      if (outcome.touched.length > 0) await this.index.clustersChanged(outcome.touched, []);
    }
    return { moved, touched: [...touched.values()] };
  }

  private async write(token: string, moves: PlannedMove[], model: string): Promise<MovesOutcome> {
    const clusterIds = [...new Set(moves.flatMap((m) => [m.from, m.to]))];
    const { live } = await this.store.load(clusterIds, model);
    const read = this.redis.pipeline();
    for (const state of live) read.scard(this.keys.clusters.items(state.id));
    for (const move of moves) read.sismember(this.keys.clusters.items(move.from), move.itemId);
    const replies = (await read.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const vectors = await this.itemVectors.load(moves.map((m) => m.itemId));

    // Sizes as the member sets count them: the script checks them before writing.
    const before = new Map(live.map((s, i) => [s.id, replies[i][1] as number]));
    const working = new Map(live.map((s) => [s.id, { ...s, size: before.get(s.id) ?? 0 }]));
    const applied: PlannedMove[] = [];
    moves.forEach((move, i) => {
      const from = working.get(move.from);
      const to = working.get(move.to);
      const v = vectors.get(move.itemId);
      const isMember = replies[live.length + i][1] === 1;
      if (!from || !to || !v || !isMember || from.size <= 1) return;
      if (v.length !== from.centroid.length) return;
      from.centroid = removeFromMean(from.centroid, from.size, v);
      from.size -= 1;
      to.centroid = meanWith(to.centroid, to.size, v);
      to.size += 1;
      applied.push(move);
    });
    if (applied.length === 0) return { moved: 0, touched: [] };

    const touchedIds = [...new Set(applied.flatMap((m) => [m.from, m.to]))];
    const clusters = touchedIds.map((id) => ({
      id,
      size: before.get(id),
      centroid: centroidJson((working.get(id) as ClusterState).centroid),
    }));
    const plan = {
      moves: applied.map((m) => ({ item: m.itemId, from: m.from, to: m.to })),
      clusters,
      sourceChars: MAX_SOURCE_CHARS,
    };
    const moved = (await runScript(
      this.redis,
      'moveItems',
      moveItemsKeys(this.keys),
      [token, new Date().toISOString(), JSON.stringify(plan)],
      this.keys,
    )) as number;
    return { moved, touched: touchedIds.map((id) => working.get(id) as ClusterState) };
  }
}
