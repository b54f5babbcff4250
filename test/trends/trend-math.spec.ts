import {
  arrivalsInLastHours,
  baseRatePerDay,
  growthOf,
  isEmerging,
  parseTrendBuckets,
  series,
  trendScore,
} from '../../src/trends/trend-math';

const HOUR = 3_600_000;
/** An instant in the middle of epoch hour 500 000 (day 20 833). */
const NOW = 500_000 * HOUR + 30 * 60_000;

describe('trend math', () => {
  it('reads hourly and daily fields and ignores anything else', () => {
    const buckets = parseTrendBuckets({ 'h:500000': '3', 'd:20833': '7', x: '1', 'h:bad': '2' });
    expect([...buckets.hourly]).toEqual([[500000, 3]]);
    expect([...buckets.daily]).toEqual([[20833, 7]]);
  });

  it('counts the last 24 and 168 hourly buckets, the current hour included', () => {
    const buckets = parseTrendBuckets({
      'h:500000': '2', // this hour
      'h:499977': '1', // 23 hours ago: inside 24 h
      'h:499976': '4', // 24 hours ago: outside 24 h, inside 7 d
      'h:499833': '8', // 167 hours ago: inside 7 d
      'h:499832': '16', // 168 hours ago: outside
      'h:500001': '32', // the future (clock skew): not counted
    });
    expect(growthOf(buckets, NOW)).toEqual({ growth_24h: 3, growth_7d: 15 });
    expect(arrivalsInLastHours(buckets, NOW, 1)).toBe(2);
  });

  it('scores today against the cluster’s own usual day', () => {
    expect(trendScore({ growth_24h: 10, growth_7d: 10 })).toBe(10); // all new
    expect(trendScore({ growth_24h: 10, growth_7d: 70 })).toBe(0); // steady 10 a day
    expect(trendScore({ growth_24h: 0, growth_7d: 60 })).toBe(-10); // fading
  });

  it('takes the base rate from the other live clusters’ mean daily arrivals', () => {
    expect(baseRatePerDay(7 * 10 * 4 + 35, 35, 5)).toBe(10);
    expect(baseRatePerDay(35, 35, 1)).toBe(0); // the only cluster
    expect(baseRatePerDay(10, 35, 3)).toBe(0); // never negative
  });

  it('flags a young cluster that reaches both the minimum and 3x the base rate', () => {
    const young = { createdAtMs: NOW - 10 * HOUR, nowMs: NOW };
    expect(isEmerging({ ...young, growth24h: 30, baseRatePerDay: 10 })).toBe(true);
    expect(isEmerging({ ...young, growth24h: 29, baseRatePerDay: 10 })).toBe(false);
    expect(isEmerging({ ...young, growth24h: 4, baseRatePerDay: 0 })).toBe(false);
    expect(isEmerging({ ...young, growth24h: 5, baseRatePerDay: 0 })).toBe(true);
    const old = { createdAtMs: NOW - 73 * HOUR, nowMs: NOW };
    expect(isEmerging({ ...old, growth24h: 100, baseRatePerDay: 0 })).toBe(false);
    expect(isEmerging({ createdAtMs: NaN, nowMs: NOW, growth24h: 100, baseRatePerDay: 0 })).toBe(
      false,
    );
  });

  it('lays buckets out as a sparkline, oldest first and zero-filled', () => {
    expect(
      series(
        new Map([
          [10, 2],
          [8, 1],
          [3, 9],
        ]),
        10,
        4,
      ),
    ).toEqual([0, 1, 0, 2]);
  });
});
