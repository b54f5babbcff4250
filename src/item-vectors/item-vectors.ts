import Redis from 'ioredis';
import { parseFeedbackHash } from '../feedback/feedback-item';
import { Embedder } from '../ports/embedder.port';
import { prepareText } from '../text/prepare-text';
import { Keyspace } from '../redis/keyspace';
import { decodeVectorRecord, encodePackedRecord } from './vector-record';

/**
 * `auto`: item vectors of an embedder that recomputes a vector in well under a millisecond
 * (the local one) are not stored at all, those of a hosted embedder are stored quantised;
 * `int8`: always stored (to measure what quantisation costs, or to spare the CPU; the name
 * predates the 6-bit codes).
 */
export type ItemVectorStorage = 'auto' | 'int8';

/** An item with its text as the pipeline prepared it for the embedder. */
export interface PreparedItem {
  id: string;
  text: string;
}

/**
 * Bits per coordinate of a stored item vector: 6 bits keep a hosted 768-d item under 1 KB of
 * Redis (int8 took ~1.1 KB) at no measurable cost in quality (README "Keys").
 */
const ITEM_VECTOR_BITS = 6;

/** Items read per round trip when vectors are recomputed from text. */
const READ_CHUNK = 100;

/**
 * Item vectors, for what needs them after assignment (sweep moves, summaries' samples, the
 * re-embedder): decoded from `clustering:vectors:items`, or recomputed from the item's text
 * exactly as the pipeline embedded it (same preparation, same deterministic embedder).
 * This keeps Redis at well under 1 KB per item (README "Redis memory").
 */
export class ItemVectors {
  /** Whether vectors are written to Redis (else they are recomputed when needed). */
  readonly stored: boolean;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly embedder: Embedder,
    storage: ItemVectorStorage,
    private readonly maxTextChars: number,
  ) {
    this.stored = storage === 'int8' || !embedder.cheapToRecompute;
  }

  get model(): string {
    return this.embedder.model;
  }

  /** What the persist stage writes for an item's vector; undefined when nothing is stored. */
  encode(vector: Float32Array): Buffer | undefined {
    return this.stored ? this.record(vector) : undefined;
  }

  /**
   * The vector as it will read back from Redis. The pipeline clusters with this one, so a
   * centroid is the mean of exactly the stored vectors and an update that takes an item out
   * again subtracts what was added (with the raw vector, every departure left an int8
   * rounding behind, and a cluster that grew and shrank many times drifted off its members).
   */
  asStored(vector: Float32Array): Float32Array {
    if (!this.stored) return vector;
    return decodeVectorRecord(this.record(vector), this.model) ?? vector;
  }

  private record(vector: Float32Array): Buffer {
    return encodePackedRecord(vector, this.model, ITEM_VECTOR_BITS);
  }

  /** Vectors of the current model stored for `ids` (absent: none stored, or another model's). */
  async readStored(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    const found = new Map<string, Float32Array>();
    if (!this.stored || ids.length === 0) return found;
    const records = await this.redis.hmgetBuffer(this.keys.service.itemVectors, ...ids);
    ids.forEach((id, i) => {
      const record = records[i];
      const vector = record ? decodeVectorRecord(record, this.embedder.model) : undefined;
      if (vector) found.set(id, vector);
    });
    return found;
  }

  /**
   * Vectors for `ids`: stored ones, and (when vectors are not stored) recomputed from the
   * items' text. Ids whose vector is not to be had (no text, hash gone) are absent.
   */
  async load(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    if (this.stored) return this.readStored(ids);
    const found = new Map<string, Float32Array>();
    for (let start = 0; start < ids.length; start += READ_CHUNK) {
      const chunk = ids.slice(start, start + READ_CHUNK);
      const read = this.redis.pipeline();
      for (const id of chunk) read.hgetall(this.keys.feedback.item(id));
      const replies = (await read.exec()) ?? [];
      const prepared: PreparedItem[] = [];
      chunk.forEach((id, i) => {
        const [error, hash] = replies[i];
        if (error) throw error;
        const item = parseFeedbackHash(id, hash as Record<string, string>);
        const result = item ? prepareText(item, this.maxTextChars) : undefined;
        if (result?.ok) prepared.push({ id, text: result.text });
      });
      for (const [id, vector] of await this.vectorsOf(prepared)) found.set(id, vector);
    }
    return found;
  }

  /**
   * Vectors for items whose prepared text the caller has at hand: stored ones, or recomputed
   * from that text when vectors are not stored.
   */
  async vectorsOf(items: readonly PreparedItem[]): Promise<Map<string, Float32Array>> {
    if (this.stored) return this.readStored(items.map((item) => item.id));
    const found = new Map<string, Float32Array>();
    if (items.length === 0) return found;
    const outcomes = await this.embedder.embed(items.map((item) => item.text));
    outcomes.forEach((outcome, i) => {
      if (outcome.ok) found.set(items[i].id, outcome.vector);
    });
    return found;
  }
}
