import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { LiveClusters } from '../clusters/live-clusters';
import { Environment } from '../config/environment';
import { Keyspace } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { TrendReader } from '../trends/trend-reader';
import { retryDelayMs, sizesReached } from './alert-math';

/** Changed clusters examined per detection step. */
const DETECT_BATCH = 500;
/** Alerts claimed (and sent in parallel) per delivery step. */
const SEND_BATCH = 10;
/** How long a claimed alert is left to its replica before another may send it. */
const CLAIM_LEASE_MS = 60_000;

/** What is POSTed (README, "Alerts"). */
export interface AlertBody {
  id: string;
  type: 'cluster.size_reached' | 'cluster.emerging';
  project_id: string | null;
  threshold?: number;
  cluster: Record<string, unknown>;
  detected_at: string;
}

/** A queued alert: the exact text to POST (so every attempt carries the same signature). */
interface QueuedAlert {
  body: string;
  attempts: number;
  last_error?: string;
}

/** Sends one alert; throws with a reason when the receiver did not take it. */
export type AlertDelivery = (alertId: string, body: string) => Promise<void>;

/**
 * One project's alerts: detection follows the cluster change feed (every persist and merge
 * bumps the clusters it touches), so it reads only clusters that changed; the queue, the
 * record of alerts sent and the parked ones live in Redis under `clustering:` (keyspace.ts).
 * Nothing here runs on the clustering path: the alert worker calls it in the background.
 */
@Injectable()
export class AlertOutbox {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
    private readonly env: Environment,
    private readonly trends: TrendReader,
  ) {}

  /** Queues the alerts of clusters changed since the last step; returns how many were new. */
  async detect(now = new Date()): Promise<number> {
    const cursor = Number((await this.redis.get(this.keys.service.alertCursor)) ?? 0);
    const changes = await this.redis.zrangebyscore(
      this.keys.service.indexChanges,
      `(${cursor}`,
      '+inf',
      'WITHSCORES',
      'LIMIT',
      0,
      DETECT_BATCH,
    );
    if (changes.length === 0) return 0;
    const ids = changes.filter((_, i) => i % 2 === 0);
    const lastSeq = Number(changes[changes.length - 1]);
    const read = this.redis.pipeline();
    for (const id of ids) read.hgetall(this.keys.clusters.cluster(id));
    const [replies, live] = await Promise.all([
      read.exec(),
      new LiveClusters(this.redis, this.keys).flags(ids),
    ]);
    const clusters = (replies ?? [])
      .map(([error, hash]) => {
        if (error) throw error;
        return hash as Record<string, string>;
      })
      .filter((hash, i) => live[i] && hash.id !== undefined);
    const trends = await this.trends.trendsOf(
      clusters.map((c) => ({ id: c.id, createdAt: c.created_at })),
      now.getTime(),
    );
    let queued = 0;
    for (const cluster of clusters) {
      const trend = trends.get(cluster.id);
      const size = Number(cluster.size ?? 0);
      const summary = {
        id: cluster.id,
        title: cluster.title ?? '',
        size,
        created_at: cluster.created_at,
        ...trend,
      };
      const alerts: Array<Omit<AlertBody, 'project_id' | 'detected_at' | 'cluster'>> = sizesReached(
        size,
        this.env.ALERT_SIZES,
      ).map((threshold) => ({
        id: `${cluster.id}:size:${threshold}`,
        type: 'cluster.size_reached' as const,
        threshold,
      }));
      if (trend?.emerging) alerts.push({ id: `${cluster.id}:emerging`, type: 'cluster.emerging' });
      for (const alert of alerts) {
        const body: AlertBody = {
          ...alert,
          project_id: this.keys.projectId ?? null,
          cluster: summary,
          detected_at: now.toISOString(),
        };
        queued += (await runScript(
          this.redis,
          'enqueueAlert',
          [
            this.keys.service.alertsSent,
            this.keys.service.alertQueue,
            this.keys.service.alertPayloads,
          ],
          [alert.id, JSON.stringify(body), now.getTime(), now.toISOString()],
        )) as number;
      }
    }
    // Replicas racing here may move the cursor back a little: detection is then repeated,
    // and enqueue-alert.lua still queues each alert once.
    await this.redis.set(this.keys.service.alertCursor, lastSeq);
    return queued;
  }

  /** Sends the alerts that are due through `deliver`; returns how many were delivered. */
  async sendDue(deliver: AlertDelivery, now = new Date()): Promise<number> {
    const claimed = (await runScript(
      this.redis,
      'claimAlerts',
      [this.keys.service.alertQueue, this.keys.service.alertPayloads],
      [now.getTime(), CLAIM_LEASE_MS, SEND_BATCH],
    )) as string[];
    const batch: Array<[string, QueuedAlert]> = [];
    for (let i = 0; i < claimed.length; i += 2) {
      batch.push([claimed[i], JSON.parse(claimed[i + 1]) as QueuedAlert]);
    }
    const outcomes = await Promise.all(
      batch.map(async ([id, alert]) => {
        try {
          await deliver(id, alert.body);
          await this.settle(id, { state: 'delivered', at: new Date().toISOString() });
          return true;
        } catch (error) {
          await this.failed(id, alert, reasonOf(error));
          return false;
        }
      }),
    );
    return outcomes.filter(Boolean).length;
  }

  private async failed(id: string, alert: QueuedAlert, reason: string): Promise<void> {
    const attempts = alert.attempts + 1;
    if (attempts >= this.env.ALERT_MAX_ATTEMPTS) {
      const at = new Date().toISOString();
      await this.redis
        .multi()
        .hset(
          this.keys.service.alertsParked,
          id,
          JSON.stringify({ body: alert.body, attempts, reason, at }),
        )
        .zrem(this.keys.service.alertQueue, id)
        .hdel(this.keys.service.alertPayloads, id)
        .hset(this.keys.service.alertsSent, id, JSON.stringify({ state: 'parked', at }))
        .exec();
      return;
    }
    const due = Date.now() + retryDelayMs(attempts, this.env.ALERT_RETRY_BASE_MS);
    await this.redis
      .multi()
      .hset(
        this.keys.service.alertPayloads,
        id,
        JSON.stringify({ body: alert.body, attempts, last_error: reason }),
      )
      .zadd(this.keys.service.alertQueue, due, id)
      .exec();
  }

  private async settle(id: string, state: { state: string; at: string }): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.keys.service.alertQueue, id)
      .hdel(this.keys.service.alertPayloads, id)
      .hset(this.keys.service.alertsSent, id, JSON.stringify(state))
      .exec();
  }
}

/** A failure's reason, with its cause (fetch reports `fetch failed`, the cause says why). */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
