import { createHash } from 'node:crypto';
import { normalize } from '../../src/math/vector-math';
import { LocalEmbedder } from '../../src/providers/local/local-embedder';
import { randomUnitVector, seededRandom } from '../../scripts/lib/bench-support';

/** Where the local embedder's unrelated texts meet (mean cosine of random pairs), about. */
const SEMANTIC_BACKGROUND = 0.1;

/**
 * Embeddings shaped like a large hosted model's: semantic vectors (the local embedder's,
 * randomly projected to the requested dimensions, which keeps their cosines) plus one fixed
 * offset direction shared by every text, re-normalised, then scaled to a length that varies
 * by text (Gemini's vectors below 3072 dimensions are not unit length). Unrelated texts then
 * meet at cosine `background` (0.6-0.8 for hosted models) instead of the local embedder's 0.1,
 * while which texts are near which stays the same: the case every similarity threshold of the
 * service must survive. Deterministic: the same text always gets the same vector.
 */
export class ShiftedSemanticEmbeddings {
  private readonly local = new LocalEmbedder();
  private readonly projections = new Map<number, Float32Array[]>();
  private readonly offsets = new Map<number, Float32Array>();
  /** Weight of the offset direction: (s + a·o) / |s + a·o| meet at (b0 + a²) / (1 + a²). */
  private readonly offsetWeight: number;

  constructor(readonly background: number) {
    if (background < SEMANTIC_BACKGROUND || background >= 1)
      throw new Error(`background must be in [${SEMANTIC_BACKGROUND}, 1), got ${background}`);
    this.offsetWeight = Math.sqrt((background - SEMANTIC_BACKGROUND) / (1 - background));
  }

  /** One vector per text; a text the local embedder cannot read gets a vector of its hash. */
  async embed(texts: readonly string[], dimensions: number): Promise<Float32Array[]> {
    const outcomes = await this.local.embed(texts);
    const projection = this.projection(dimensions);
    const offset = this.offset(dimensions);
    return outcomes.map((outcome, t) => {
      const semantic = outcome.ok
        ? project(outcome.vector, projection)
        : randomUnitVector(dimensions, seededRandom(digest(texts[t])));
      const shifted = normalize(semantic);
      for (let i = 0; i < dimensions; i++) shifted[i] += this.offsetWeight * offset[i];
      const length = 0.6 + 0.3 * ((digest(texts[t]) % 1000) / 1000);
      const unit = normalize(shifted);
      for (let i = 0; i < dimensions; i++) unit[i] *= length;
      return unit;
    });
  }

  /** A fixed Gaussian projection from the local embedder's dimensions to `dimensions`. */
  private projection(dimensions: number): Float32Array[] {
    let rows = this.projections.get(dimensions);
    if (!rows) {
      const random = seededRandom(1_000 + dimensions);
      rows = Array.from({ length: this.local.dimensions }, () =>
        randomUnitVector(dimensions, random),
      );
      this.projections.set(dimensions, rows);
    }
    return rows;
  }

  private offset(dimensions: number): Float32Array {
    let offset = this.offsets.get(dimensions);
    if (!offset) {
      offset = randomUnitVector(dimensions, seededRandom(7 + dimensions));
      this.offsets.set(dimensions, offset);
    }
    return offset;
  }
}

function project(vector: Float32Array, rows: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(rows[0].length);
  vector.forEach((weight, i) => {
    if (weight === 0) return;
    const row = rows[i];
    for (let d = 0; d < out.length; d++) out[d] += weight * row[d];
  });
  return out;
}

function digest(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32LE(0);
}
