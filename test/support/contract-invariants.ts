import Redis from 'ioredis';
import { decodeVectorRecord } from '../../src/item-vectors/vector-record';

/**
 * Checks every invariant of the contract's "clustered" definition (CONTRACT §2) over the
 * whole database and returns the violations (empty when all hold).
 */
export async function contractViolations(redis: Redis): Promise<string[]> {
  const problems: string[] = [];
  const live = new Set(await redis.smembers('clusters:all'));
  const membership = new Map<string, string[]>();
  for (const clusterId of live) {
    const hash = await redis.hgetall(`cluster:${clusterId}`);
    const members = await redis.smembers(`cluster:items:${clusterId}`);
    if (hash.id !== clusterId) problems.push(`cluster ${clusterId}: id field is ${hash.id}`);
    if (!hash.title) problems.push(`cluster ${clusterId}: no title`);
    if (Number(hash.size) !== members.length) {
      problems.push(`cluster ${clusterId}: size ${hash.size} but ${members.length} members`);
    }
    if (members.length === 0) problems.push(`cluster ${clusterId}: live but empty`);
    const centroid = JSON.parse(hash.centroid ?? 'null') as unknown;
    if (!Array.isArray(centroid) || centroid.length === 0) {
      problems.push(`cluster ${clusterId}: centroid is not a JSON array`);
    }
    if (!hash.embedding_model) problems.push(`cluster ${clusterId}: no embedding_model`);
    const sources = JSON.parse(hash.sources ?? 'null') as unknown;
    if (!Array.isArray(sources) || sources.length === 0) {
      problems.push(`cluster ${clusterId}: sources is not a non-empty JSON array`);
    }
    for (const m of members) membership.set(m, [...(membership.get(m) ?? []), clusterId]);
  }
  const unclustered = new Set(await redis.smembers('feedback:unclustered'));
  const feedbackKeys = await scanKeys(redis, 'feedback:*');
  const itemIds = feedbackKeys
    .filter((k) => (k.match(/:/g) ?? []).length === 1)
    .map((k) => k.slice('feedback:'.length))
    .filter((id) => !['created', 'unclustered', 'events'].includes(id));
  for (const id of itemIds) {
    if ((await redis.type(`feedback:${id}`)) !== 'hash') continue;
    const [clustered, clusterId, clusteredAt] = await redis.hmget(
      `feedback:${id}`,
      'clustered',
      'cluster_id',
      'clustered_at',
    );
    const clusters = membership.get(id) ?? [];
    if (clustered === 'true') {
      if (clusters.length !== 1)
        problems.push(`item ${id}: clustered but in ${clusters.length} clusters`);
      if (!clusterId || clusters[0] !== clusterId)
        problems.push(`item ${id}: cluster_id ${clusterId} mismatch`);
      if (!clusteredAt) problems.push(`item ${id}: no clustered_at`);
      if (unclustered.has(id))
        problems.push(`item ${id}: clustered but still in feedback:unclustered`);
    } else {
      if (clusters.length > 0)
        problems.push(`item ${id}: not clustered but member of ${clusters.join(',')}`);
      if (!unclustered.has(id)) problems.push(`item ${id}: neither clustered nor waiting (lost)`);
    }
  }
  return problems;
}

/**
 * Checks that every live cluster's `centroid` is the mean of its members' stored vectors, each
 * coordinate within `tolerance`: the service clusters with the vectors as stored (int8 records),
 * so joins and departures add and subtract exactly those, and only float rounding is left; an
 * item counted wrongly, or a departure that subtracts another vector than was added, shifts the
 * centroid far more. Returns the violations. A member without a stored vector is a violation
 * too: run the service with `ITEM_VECTORS=int8` (with `auto` the local embedder's vectors are
 * recomputed from text, not stored).
 */
export async function centroidViolations(redis: Redis, tolerance = 1e-4): Promise<string[]> {
  const problems: string[] = [];
  for (const clusterId of await redis.smembers('clusters:all')) {
    const members = await redis.smembers(`cluster:items:${clusterId}`);
    if (members.length === 0) continue; // reported by contractViolations
    const model = (await redis.hget(`cluster:${clusterId}`, 'embedding_model')) ?? '';
    const records = await redis.hmgetBuffer('clustering:vectors:items', ...members);
    const mean: number[] = [];
    let missing = 0;
    for (const record of records) {
      const vector = record ? decodeVectorRecord(record, model) : undefined;
      if (!record || !vector) {
        missing++;
        continue;
      }
      vector.forEach((x, i) => (mean[i] = (mean[i] ?? 0) + x / members.length));
    }
    if (missing > 0) problems.push(`cluster ${clusterId}: ${missing} members without a vector`);
    const centroid = JSON.parse(
      (await redis.hget(`cluster:${clusterId}`, 'centroid')) ?? '[]',
    ) as number[];
    const worst = mean.reduce((w, x, i) => Math.max(w, Math.abs(x - (centroid[i] ?? NaN))), 0);
    if (centroid.length !== mean.length || !(worst <= tolerance)) {
      problems.push(
        `cluster ${clusterId}: centroid is off the mean of its ${members.length} members by ${worst}`,
      );
    }
  }
  return problems;
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
