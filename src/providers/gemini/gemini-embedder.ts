import { bulkhead, BulkheadPolicy } from 'cockatiel';
import { EmbedOutcome, Embedder } from '../../ports/embedder.port';
import { normalize, norm } from '../../math/vector-math';
import { NO_PROVIDER_METRICS, ProviderMetrics } from '../provider-metrics';
import { ProviderReadiness } from '../../ports/provider-readiness';
import { InvalidResponseError, ResilienceOptions } from '../resilient-call';
import { checkGeminiReady, GeminiAccess, geminiAccess } from './gemini-client';
import { GeminiConnection, fetchRecordingRetryAfter, toProviderError } from './gemini-errors';

/** The API takes at most this many texts per `batchEmbedContents` call. */
const MAX_BATCH = 100;
/** `gemini-embedding-001` can truncate its 3072-d output to any size down to this. */
const MIN_DIMENSIONS = 128;
const MAX_DIMENSIONS = 3072;

export interface GeminiEmbedderOptions extends GeminiConnection, Partial<ResilienceOptions> {
  /** Default `gemini-embedding-001`. */
  model?: string;
  /** Output dimensionality (Matryoshka truncation); default 768. */
  dimensions?: number;
  /** Texts per request, at most 100 (the default). */
  batchSize?: number;
  /** Requests in flight at once, across all `embed` calls of this embedder; default 4. */
  concurrency?: number;
  metrics?: ProviderMetrics;
}

const DEFAULT_RESILIENCE: ResilienceOptions = {
  timeoutMs: 30_000,
  maxRetries: 4,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  breakerThreshold: 5,
  breakerHalfOpenMs: 30_000,
};

/**
 * Embeds texts with Gemini (`models/{model}:batchEmbedContents`, task type CLUSTERING).
 * A batch that finally fails (retries exhausted, circuit open, wrong answer) yields
 * `{ ok: false }` for its texts: the pipeline keeps them unclustered and retries later.
 */
export class GeminiEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** A network call per batch: item vectors are stored (int8). */
  readonly cheapToRecompute = false;
  private readonly apiModel: string;
  private readonly batchSize: number;
  private readonly gemini: GeminiAccess;
  private readonly inFlight: BulkheadPolicy;

  constructor(options: GeminiEmbedderOptions) {
    this.apiModel = options.model ?? 'gemini-embedding-001';
    this.dimensions = options.dimensions ?? 768;
    if (
      !Number.isInteger(this.dimensions) ||
      this.dimensions < MIN_DIMENSIONS ||
      this.dimensions > MAX_DIMENSIONS
    ) {
      throw new Error(
        `Gemini embedding dimensions must be an integer from ${MIN_DIMENSIONS} to ${MAX_DIMENSIONS}, got ${options.dimensions}`,
      );
    }
    this.model = `${this.apiModel}@${this.dimensions}`;
    this.batchSize = Math.min(MAX_BATCH, Math.max(1, options.batchSize ?? MAX_BATCH));
    this.gemini = geminiAccess(options, DEFAULT_RESILIENCE, options.metrics ?? NO_PROVIDER_METRICS);
    this.inFlight = bulkhead(Math.max(1, options.concurrency ?? 4), Number.MAX_SAFE_INTEGER);
  }

  async embed(texts: readonly string[]): Promise<EmbedOutcome[]> {
    const outcomes: EmbedOutcome[] = texts.map(() => ({ ok: false, reason: 'empty text' }));
    // Empty texts are refused by the API and would fail their whole batch.
    const indexes = texts.flatMap((text, i) => (text.trim() ? [i] : []));
    const batches: number[][] = [];
    for (let start = 0; start < indexes.length; start += this.batchSize) {
      batches.push(indexes.slice(start, start + this.batchSize));
    }
    await Promise.all(
      batches.map(async (batch) => {
        const results = await this.inFlight.execute(() =>
          this.embedBatch(batch.map((i) => texts[i])),
        );
        batch.forEach((textIndex, i) => (outcomes[textIndex] = results[i]));
      }),
    );
    return outcomes;
  }

  /** Ready when a call succeeded in the last minute, or the model can be looked up now. */
  async checkReady(): Promise<ProviderReadiness> {
    return checkGeminiReady(this.gemini, this.apiModel, `gemini ${this.model}`, 'embedded');
  }

  private async embedBatch(texts: string[]): Promise<EmbedOutcome[]> {
    try {
      const vectors = await this.gemini.caller.run('embed', (signal) =>
        this.request(texts, signal),
      );
      return vectors.map((vector) =>
        norm(vector) > 0
          ? { ok: true, vector: normalize(vector) }
          : { ok: false, reason: 'gemini returned a zero vector' },
      );
    } catch (error) {
      const reason = this.gemini.caller.describe(error);
      return texts.map(() => ({ ok: false, reason }));
    }
  }

  private async request(texts: string[], abortSignal: AbortSignal): Promise<Float32Array[]> {
    const recorder = fetchRecordingRetryAfter();
    const { embeddings } = await this.gemini.ai.models
      .embedContent({
        model: this.apiModel,
        // One content per text: given bare strings, the SDK folds them into one content (one
        // embedding) for gemini-embedding-2 models.
        contents: texts.map((text) => ({ role: 'user', parts: [{ text }] })),
        config: {
          taskType: 'CLUSTERING',
          outputDimensionality: this.dimensions,
          abortSignal,
          httpOptions: { fetch: recorder.fetch },
        },
      })
      .catch((error: unknown) => {
        throw toProviderError(error, recorder.retryAfter());
      });
    if (!embeddings || embeddings.length !== texts.length) {
      throw new InvalidResponseError(
        `expected ${texts.length} embeddings, got ${embeddings?.length ?? 0}`,
      );
    }
    return embeddings.map(({ values }) => {
      if (!values || values.length !== this.dimensions) {
        throw new InvalidResponseError(
          `expected ${this.dimensions}-dimensional embeddings, got ${values?.length ?? 0}`,
        );
      }
      if (!values.every(Number.isFinite)) {
        throw new InvalidResponseError('embedding contains non-numbers');
      }
      return Float32Array.from(values);
    });
  }
}
