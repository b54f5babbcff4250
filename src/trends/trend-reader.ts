import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { LiveClusters } from '../clusters/live-clusters';
import { Keyspace } from '../redis/keyspace';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import {
  baseRatePerDay,
  Growth,
  growthOf,
  isEmerging,
  parseTrendBuckets,
  series,
  TREND_PERIODS,
  trendScore,
} from './trend-math';

/** What a cluster read shows of its trend. */
export interface ClusterTrend extends Growth {
  trend_score: number;
  emerging: boolean;
}

/** Arrivals per hour over 7 days and per day over 90, oldest first (the current bucket last). */
export interface ClusterSparklines {
  hourly_7d: number[];
  daily_90d: number[];
}

/** Reads the trend buckets of one project's clusters (persist-batch.lua writes them). */
@Injectable()
export class TrendReader {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEYSPACE) private readonly keys: Keyspace,
  ) {}

  /** The trend of each cluster, by id; `createdAt` is the cluster's ISO `created_at`. */
  async trendsOf(
    clusters: ReadonlyArray<{ id: string; createdAt: string | undefined }>,
    nowMs = Date.now(),
  ): Promise<Map<string, ClusterTrend>> {
    const trends = new Map<string, ClusterTrend>();
    if (clusters.length === 0) return trends;
    const read = this.redis.pipeline();
    read.hgetall(this.keys.service.arrivals);
    for (const { id } of clusters) read.hgetall(this.keys.service.trends(id));
    const [replies, live] = await Promise.all([
      read.exec(),
      new LiveClusters(this.redis, this.keys).count(),
    ]);
    const hashes = (replies ?? []).map(([error, hash]) => {
      if (error) throw error;
      return hash as Record<string, string>;
    });
    const project7d = growthOf(parseTrendBuckets(hashes[0] ?? {}), nowMs).growth_7d;
    clusters.forEach(({ id, createdAt }, i) => {
      const growth = growthOf(parseTrendBuckets(hashes[i + 1] ?? {}), nowMs);
      trends.set(id, {
        ...growth,
        trend_score: trendScore(growth),
        emerging: isEmerging({
          createdAtMs: Date.parse(createdAt ?? ''),
          nowMs,
          growth24h: growth.growth_24h,
          baseRatePerDay: baseRatePerDay(project7d, growth.growth_7d, live),
        }),
      });
    });
    return trends;
  }

  async sparklines(clusterId: string, nowMs = Date.now()): Promise<ClusterSparklines> {
    const buckets = parseTrendBuckets(
      await this.redis.hgetall(this.keys.service.trends(clusterId)),
    );
    return {
      hourly_7d: series(buckets.hourly, Math.floor(nowMs / TREND_PERIODS.hourMs), 168),
      daily_90d: series(buckets.daily, Math.floor(nowMs / TREND_PERIODS.dayMs), 90),
    };
  }
}
