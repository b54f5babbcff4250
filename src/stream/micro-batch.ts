import { EventStream } from './event-stream';
import { StreamEntry } from './stream-entry';

/** Longest single blocking read, so a stop request is noticed promptly. */
const MAX_BLOCK_MS = 1000;

/**
 * Gathers one micro-batch of new entries: waits (up to `idleBlockMs`) for the first, then
 * keeps reading until `maxItems` are in hand or `maxWaitMs` has passed since the first.
 */
export async function gatherMicroBatch(
  stream: EventStream,
  maxItems: number,
  maxWaitMs: number,
  idleBlockMs = MAX_BLOCK_MS,
): Promise<StreamEntry[]> {
  const batch = await stream.readNew(maxItems, Math.min(idleBlockMs, MAX_BLOCK_MS));
  if (batch.length === 0) return batch;
  const deadline = Date.now() + maxWaitMs;
  while (batch.length < maxItems) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const more = await stream.readNew(maxItems - batch.length, Math.max(1, Math.round(remaining)));
    if (more.length === 0) break;
    batch.push(...more);
  }
  return batch;
}
