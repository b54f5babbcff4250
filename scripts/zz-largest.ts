import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
(async () => {
  const rows = parse<Record<string, string>>(readFileSync('../shared/data/banking77/test.csv'), { columns: true });
  const label = new Map(rows.map((r) => [r.text, r.category]));
  const redis = new Redis({ db: 14 });
  const ids = await redis.smembers('clusters:all');
  const sizes = await Promise.all(ids.map((id) => redis.scard(`cluster:items:${id}`)));
  const order = ids.map((id, i) => [id, sizes[i]] as const).sort((a, b) => b[1] - a[1]).slice(0, 3);
  for (const [id, size] of order) {
    const members = await redis.smembers(`cluster:items:${id}`);
    const counts = new Map<string, number>();
    const samples: string[] = [];
    for (const m of members) { const t = (await redis.hget(`feedback:${m}`, 'title'))!; counts.set(label.get(t) ?? '?', (counts.get(label.get(t) ?? '?') ?? 0) + 1); if (samples.length < 6) samples.push(t); }
    console.log(size, (await redis.hget(`cluster:${id}`, 'title')), [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6));
    console.log('   ', samples.join(' | ').slice(0, 400));
  }
  await redis.quit();
})();
