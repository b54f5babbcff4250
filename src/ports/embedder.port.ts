import { ReadinessCheck } from './provider-readiness';
/**
 * The outcome of embedding one text: a unit-length vector, or why it could not be made.
 * `permanent` failures (the text itself cannot be embedded) are parked, not retried.
 */
export type EmbedOutcome =
  { ok: true; vector: Float32Array } | { ok: false; reason: string; permanent?: boolean };

/** Port: turns prepared texts into vectors. Adapters: local (default), Gemini. */
export interface Embedder extends ReadinessCheck {
  /** Names the model and dimension, e.g. `local-v1` or `gemini-embedding-001@768`; tagged on every stored vector. */
  readonly model: string;
  readonly dimensions: number;
  /**
   * True when embedding a text again costs well under a millisecond and gives the same vector
   * (the local embedder): item vectors are then recomputed when needed instead of stored.
   */
  readonly cheapToRecompute: boolean;
  /** One outcome per text, in order. Never rejects for a single bad text. */
  embed(texts: readonly string[]): Promise<EmbedOutcome[]>;
}

export const EMBEDDER = Symbol('Embedder');
