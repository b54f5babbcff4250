/**
 * Growth and emergence of clusters from their arrival buckets (written by persist-batch.lua,
 * see lua/includes/trend-buckets.lua): pure functions of the buckets and the clock.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Arrivals per epoch hour (`h:{n}` fields) and per epoch day (`d:{n}` fields). */
export interface TrendBuckets {
  hourly: ReadonlyMap<number, number>;
  daily: ReadonlyMap<number, number>;
}

/** A trend hash as Redis returns it; fields of another shape are ignored. */
export function parseTrendBuckets(hash: Record<string, string>): TrendBuckets {
  const hourly = new Map<number, number>();
  const daily = new Map<number, number>();
  for (const [field, raw] of Object.entries(hash)) {
    const match = /^([hd]):(-?\d+)$/.exec(field);
    const count = Number(raw);
    if (!match || !Number.isFinite(count)) continue;
    (match[1] === 'h' ? hourly : daily).set(Number(match[2]), count);
  }
  return { hourly, daily };
}

/** Arrivals in the `hours` hourly buckets ending with the current one. */
export function arrivalsInLastHours(buckets: TrendBuckets, nowMs: number, hours: number): number {
  const current = Math.floor(nowMs / HOUR_MS);
  let total = 0;
  for (const [hour, count] of buckets.hourly) {
    if (hour > current - hours && hour <= current) total += count;
  }
  return total;
}

/** Counts of the last `length` buckets (oldest first, the current one last): a sparkline. */
export function series(
  counts: ReadonlyMap<number, number>,
  current: number,
  length: number,
): number[] {
  return Array.from({ length }, (_, i) => counts.get(current - length + 1 + i) ?? 0);
}

export interface Growth {
  /** Arrivals in the last 24 hourly buckets (the current hour and the 23 before it). */
  growth_24h: number;
  /** Arrivals in the last 168 hourly buckets (7 days). */
  growth_7d: number;
}

export function growthOf(buckets: TrendBuckets, nowMs: number): Growth {
  return {
    growth_24h: arrivalsInLastHours(buckets, nowMs, 24),
    growth_7d: arrivalsInLastHours(buckets, nowMs, 168),
  };
}

/**
 * What `sort=trending` orders by: the last 24 h's arrivals minus the cluster's own mean daily
 * arrivals over the 6 days before, i.e. how far today is above its usual day. A new cluster
 * scores its arrivals; a steady one about 0; a fading one below 0.
 */
export function trendScore(growth: Growth): number {
  return growth.growth_24h - (growth.growth_7d - growth.growth_24h) / 6;
}

/** When a cluster counts as emerging (README, "Trends"). */
export interface EmergingRule {
  /** Oldest a cluster may be, in hours. */
  maxAgeHours: number;
  /** Fewest arrivals in the last 24 h. */
  minArrivals24h: number;
  /** How many times the project's base rate its last 24 h must reach. */
  factor: number;
}

export const EMERGING_RULE: EmergingRule = { maxAgeHours: 72, minArrivals24h: 5, factor: 3 };

/**
 * The project's base rate for one cluster: the mean daily arrivals, over the last 7 days, of a
 * live cluster other than this one (0 when it is the only one).
 */
export function baseRatePerDay(project7d: number, cluster7d: number, liveClusters: number): number {
  const others = liveClusters - 1;
  return others > 0 ? Math.max(0, project7d - cluster7d) / 7 / others : 0;
}

/** A young cluster growing well above its project's base rate. */
export function isEmerging(
  input: { createdAtMs: number; nowMs: number; growth24h: number; baseRatePerDay: number },
  rule: EmergingRule = EMERGING_RULE,
): boolean {
  const ageMs = input.nowMs - input.createdAtMs;
  return (
    Number.isFinite(ageMs) &&
    ageMs <= rule.maxAgeHours * HOUR_MS &&
    input.growth24h >= rule.minArrivals24h &&
    input.growth24h >= rule.factor * input.baseRatePerDay
  );
}

export const TREND_PERIODS = { hourMs: HOUR_MS, dayMs: DAY_MS };
