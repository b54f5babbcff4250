import { Keyspace } from '../../src/redis/keyspace';
/**
 * The chaos run behind `npm run chaos` (and its small CI-sized spec): several replicas as real
 * processes, one killed with SIGKILL in a loop while items and updates arrive, then a final
 * full sweep, then every invariant of the contract's "clustered" definition.
 */
import { Redis } from 'ioredis';
import { FeedbackWriter, NewFeedback } from '../../src/feedback/feedback-writer';
import { centroidViolations, contractViolations } from '../../test/support/contract-invariants';
import { startNodeService } from './built-service';
import { sleep } from './redis-server';
import { ServiceProcess } from './service-process';

export interface ChaosOptions {
  /** Redis URL with its database index; the database is flushed first. */
  redisUrl: string;
  /** Compiled entry point of the service (see freshBuildOr). */
  mainPath: string;
  replicas: number;
  items: number;
  updates: number;
  /** Items written per second while the run lasts. */
  rate: number;
  /** A replica is killed (SIGKILL) this often, and a new one started in its place. */
  killEveryMs: number;
  /** How long the service may take to settle after the last write, and to finish the sweep. */
  settleTimeoutMs: number;
  log: (line: string) => void;
}

export interface ChaosReport {
  items: number;
  updates: number;
  /** Updates of items that were clustered at the time, and how many of those changed cluster. */
  updates_of_clustered_items: number;
  updated_items_moved: number;
  kills: number;
  replicas_started: number;
  seconds: number;
  /** Items neither clustered nor waiting (the contract's "lost"). */
  lost: number;
  /** Items still waiting in feedback:unclustered after the final sweep. */
  waiting: number;
  in_two_clusters: number;
  size_mismatches: number;
  centroid_mismatches: number;
  /** Job records still pending or running once the run is over. */
  unfinished_jobs: number;
  failed_jobs: number;
  final_sweep: string;
  /** Every violation of the contract's "clustered" definition and of the centroids (first 20). */
  violations: string[];
}

/** Themes a product team would want as separate clusters; updates move items between them. */
const THEMES = [
  ['Payment failed at checkout with my credit card', 'Card payment declined when I try to pay'],
  ['The app crashes on startup after the update', 'App crashes immediately when I open it'],
  ['I cannot log in after resetting my password', 'Login fails even with the new password'],
  ['Please add a dark mode to the settings', 'A dark theme option would be great'],
  ['Export to PDF produces a blank file', 'The exported PDF is empty'],
  ['Notifications arrive hours late on Android', 'Push notifications are delayed on my phone'],
];

function themedText(seed: number): { title: string; body: string } {
  const theme = THEMES[seed % THEMES.length];
  return { title: theme[Math.floor(seed / THEMES.length) % theme.length], body: `report ${seed}` };
}

/** Runs the chaos scenario and returns its figures (see chaosHeld for what must hold). */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
  const replicas = new Set<ServiceProcess>();
  const starting = new Set<Promise<void>>();
  try {
    await redis.flushdb();
    const writer = new FeedbackWriter(redis, Keyspace.flat());
    const started = Date.now();
    let replicasStarted = 0;
    const startReplica = (): Promise<void> => {
      const start = startNodeService({
        mainPath: options.mainPath,
        redisUrl: options.redisUrl,
        env: {
          // Entries of a killed replica are claimed soon; jobs it ran too.
          CLAIM_IDLE_MS: '2000',
          JOB_CLAIM_IDLE_MS: '3000',
          SWEEP_ENABLED: 'false',
          BATCH_MAX_ITEMS: '64',
          // Stored vectors: the centroid check needs them, and updates take them out exactly.
          ITEM_VECTORS: 'int8',
        },
      }).then((replica) => {
        replicas.add(replica);
        replicasStarted++;
      });
      const tracked = start.finally(() => starting.delete(tracked));
      starting.add(tracked);
      return tracked;
    };
    await Promise.all(Array.from({ length: options.replicas }, startReplica));
    options.log(
      `${replicas.size} replicas ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    const ids: string[] = [];
    let kills = 0;
    let updates = 0;
    let producing = true;
    const clusterBeforeUpdate = new Map<string, string>();
    const killer = (async () => {
      while (producing) {
        await sleep(options.killEveryMs);
        // One replica at least keeps running (the others are being replaced).
        if (!producing || replicas.size < 2) continue;
        const victim = [...replicas][Math.floor(Math.random() * replicas.size)];
        replicas.delete(victim);
        victim.child.kill('SIGKILL');
        await victim.stop(1000);
        kills++;
        // An on-demand job now and then, so that a killed replica leaves job work behind too.
        if (kills % 3 === 0) await postJob([...replicas][0], 'incremental').catch(() => undefined);
        void startReplica().catch((error: unknown) =>
          options.log(`restart failed: ${String(error)}`),
        );
      }
    })();

    // Items at `rate` per second; updates spread over the run, each to another theme.
    const tickMs = 100;
    const perTick = Math.max(1, Math.round((options.rate * tickMs) / 1000));
    const ticks = Math.ceil(options.items / perTick);
    const updateEvery = options.updates > 0 ? Math.max(1, Math.floor(ticks / options.updates)) : 0;
    for (let tick = 0; tick < ticks || updates < options.updates; tick++) {
      const batch: NewFeedback[] = [];
      for (let i = 0; i < perTick && ids.length + batch.length < options.items; i++) {
        batch.push({ source: 'manual', ...themedText(ids.length + batch.length) });
      }
      for (const outcome of await writer.writeMany(batch)) if (outcome.ok) ids.push(outcome.id);
      const updateDue = updateEvery > 0 && tick % updateEvery === 0 && tick > 0;
      if ((updateDue || tick >= ticks) && updates < options.updates && ids.length > 0) {
        const id = ids[Math.floor(Math.random() * ids.length)];
        const before = await redis.hmget(`feedback:${id}`, 'clustered', 'cluster_id');
        if (before[0] === 'true' && before[1]) clusterBeforeUpdate.set(id, before[1]);
        await writer.update(id, themedText(Math.floor(Math.random() * 1000)));
        updates++;
      }
      await sleep(tickMs);
    }
    producing = false;
    await killer;
    await Promise.allSettled([...starting]);
    options.log(`wrote ${ids.length} items and ${updates} updates; ${kills} replicas killed`);

    await settle(redis, options.settleTimeoutMs);
    const replica = [...replicas][0];
    if (!replica) throw new Error('no replica left running');
    const sweepId = await postJob(replica, 'full');
    const sweep = await jobOutcome(redis, sweepId, options.settleTimeoutMs);
    await allJobsFinished(redis, options.settleTimeoutMs);

    const report = await check(redis, ids);
    let moved = 0;
    for (const [id, clusterId] of clusterBeforeUpdate) {
      if ((await redis.hget(`feedback:${id}`, 'cluster_id')) !== clusterId) moved++;
    }
    return {
      items: ids.length,
      updates,
      updates_of_clustered_items: clusterBeforeUpdate.size,
      updated_items_moved: moved,
      kills,
      replicas_started: replicasStarted,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      final_sweep: sweep,
      ...report,
    };
  } finally {
    await Promise.allSettled([...starting]);
    await Promise.all([...replicas].map((r) => r.stop(5000)));
    redis.disconnect();
  }
}

async function postJob(replica: ServiceProcess, mode: 'incremental' | 'full'): Promise<string> {
  const response = await fetch(`${replica.baseUrl}/cluster-jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode }),
  });
  if (response.status !== 202) throw new Error(`POST /cluster-jobs answered ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}

/** Waits until nothing waits in feedback:unclustered and no stream entry is pending. */
async function settle(redis: Redis, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const waiting = await redis.scard('feedback:unclustered');
    const [pending] = (await redis.xpending('feedback:events', 'clustering')) as [number];
    if (waiting === 0 && pending === 0) return;
    await sleep(250);
  }
}

async function jobOutcome(redis: Redis, id: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await redis.hget(`cluster_job:${id}`, 'status')) ?? 'missing';
    if (status === 'succeeded' || status === 'failed' || Date.now() > deadline) return status;
    await sleep(250);
  }
}

async function allJobsFinished(redis: Redis, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await unfinishedJobs(redis)).length > 0 && Date.now() < deadline) await sleep(250);
}

async function jobStatuses(redis: Redis): Promise<string[]> {
  const ids = await redis.zrange('cluster_jobs:recent', 0, -1);
  return Promise.all(
    ids.map(async (id) => (await redis.hget(`cluster_job:${id}`, 'status')) ?? ''),
  );
}

async function unfinishedJobs(redis: Redis): Promise<string[]> {
  return (await jobStatuses(redis)).filter((s) => s === 'pending' || s === 'running');
}

/** The figures of the final state, read from Redis alone. */
async function check(redis: Redis, ids: readonly string[]) {
  const live = await redis.smembers('clusters:all');
  const clustersOf = new Map<string, number>();
  let sizeMismatches = 0;
  for (const clusterId of live) {
    const members = await redis.smembers(`cluster:items:${clusterId}`);
    if (Number(await redis.hget(`cluster:${clusterId}`, 'size')) !== members.length) {
      sizeMismatches++;
    }
    for (const id of members) clustersOf.set(id, (clustersOf.get(id) ?? 0) + 1);
  }
  let lost = 0;
  for (const id of ids) {
    const clustered = (await redis.hget(`feedback:${id}`, 'clustered')) === 'true';
    const waiting = (await redis.sismember('feedback:unclustered', id)) === 1;
    if (!clustered && !waiting) lost++;
  }
  const centroids = await centroidViolations(redis);
  const statuses = await jobStatuses(redis);
  return {
    lost,
    waiting: await redis.scard('feedback:unclustered'),
    in_two_clusters: [...clustersOf.values()].filter((n) => n > 1).length,
    size_mismatches: sizeMismatches,
    centroid_mismatches: centroids.length,
    unfinished_jobs: statuses.filter((s) => s === 'pending' || s === 'running').length,
    failed_jobs: statuses.filter((s) => s === 'failed').length,
    violations: [...(await contractViolations(redis)), ...centroids].slice(0, 20),
  };
}

/** True when the run kept every promise: nothing lost, doubled, mismatched or unfinished. */
export function chaosHeld(report: ChaosReport): boolean {
  return (
    report.lost === 0 &&
    report.waiting === 0 &&
    report.in_two_clusters === 0 &&
    report.size_mismatches === 0 &&
    report.centroid_mismatches === 0 &&
    report.unfinished_jobs === 0 &&
    report.final_sweep === 'succeeded' &&
    report.violations.length === 0
  );
}
