/** One `feedback:events` entry as read from the stream. */
export interface StreamEntry {
  entryId: string;
  fields: Record<string, string>;
}

/** A raw XREADGROUP / XAUTOCLAIM entry: `[id, [field, value, ...]]` (fields null when deleted). */
export type RawEntry = [string, string[] | null];

export function toStreamEntry([entryId, flat]: RawEntry): StreamEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; flat && i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return { entryId, fields };
}

const UUID_LIKE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** The feedback id an event announces, or why the event is unusable. */
export function feedbackIdOf(entry: StreamEntry): { id: string } | { reason: string } {
  const id = entry.fields.id?.trim();
  if (!id) return { reason: 'event has no id field' };
  if (!UUID_LIKE.test(id)) return { reason: 'event id is not a valid feedback id' };
  return { id };
}

/** Compares two stream ids (`ms-seq`). */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq = '0'] = a.split('-');
  const [bMs, bSeq = '0'] = b.split('-');
  const byMs = BigInt(aMs) - BigInt(bMs);
  if (byMs !== 0n) return byMs < 0n ? -1 : 1;
  const bySeq = BigInt(aSeq) - BigInt(bSeq);
  return bySeq === 0n ? 0 : bySeq < 0n ? -1 : 1;
}
