import { createHash } from 'node:crypto';
import { Embedder, EmbedOutcome } from '../../src/ports/embedder.port';

/** Words that put a text on one axis; texts sharing a topic are near, different topics far. */
const TOPICS = ['payment', 'dark', 'crash', 'login'];
const DIMENSIONS = 12;
/** Size of the per-text deviation: two texts of one topic have a cosine of about 0.96. */
const NOISE = 0.2;

/**
 * A deterministic, instant embedder for tests of jobs and sweeps (the local embedder's word
 * table takes seconds to load): the topic words of a text choose its direction, a hash of the
 * text adds a small deviation so that no two texts are identical.
 */
export class TopicEmbedder implements Embedder {
  readonly model = 'test-topics@12';
  readonly dimensions = DIMENSIONS;
  /** Deterministic and instant: item vectors are recomputed, as the local embedder's are. */
  readonly cheapToRecompute = true;

  async embed(texts: readonly string[]): Promise<EmbedOutcome[]> {
    return texts.map((text) => ({ ok: true, vector: topicVector(text) }));
  }
}

export function topicVector(text: string): Float32Array {
  const v = new Float32Array(DIMENSIONS);
  const lower = text.toLowerCase();
  TOPICS.forEach((topic, axis) => {
    if (lower.includes(topic)) v[axis] = 1;
  });
  const hash = createHash('sha256').update(text).digest();
  const noise = new Float32Array(DIMENSIONS - TOPICS.length);
  let n = 0;
  for (let i = 0; i < noise.length; i++) {
    noise[i] = hash[i] / 255 - 0.5;
    n += noise[i] * noise[i];
  }
  for (let i = 0; i < noise.length; i++) v[TOPICS.length + i] = (noise[i] / Math.sqrt(n)) * NOISE;
  let norm = 0;
  for (const x of v) norm += x * x;
  return v.map((x) => x / Math.sqrt(norm));
}
