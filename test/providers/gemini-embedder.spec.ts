import { cosine, norm } from '../../src/math/vector-math';
import { EmbedOutcome } from '../../src/ports/embedder.port';
import { GeminiEmbedder, GeminiEmbedderOptions } from '../../src/providers/gemini/gemini-embedder';
import { ProviderCallOutcome, ProviderMetrics } from '../../src/providers/provider-metrics';
import { GeminiStandIn } from '../stand-ins/gemini-stand-in';

/** Records what the adapter reports, as the Prometheus binding would see it. */
class RecordingMetrics implements ProviderMetrics {
  readonly calls: Array<{ operation: string; outcome: ProviderCallOutcome }> = [];
  retries = 0;
  call(_provider: string, operation: string, outcome: ProviderCallOutcome): void {
    this.calls.push({ operation, outcome });
  }
  retry(): void {
    this.retries++;
  }
  fallback(): void {}
}

function vectorOf(outcome: EmbedOutcome): Float32Array {
  if (!outcome.ok) throw new Error(`expected a vector, got: ${outcome.reason}`);
  return outcome.vector;
}

function reasonOf(outcome: EmbedOutcome): string {
  if (outcome.ok) throw new Error('expected a failure, got a vector');
  return outcome.reason;
}

describe('GeminiEmbedder', () => {
  let gemini: GeminiStandIn;
  let metrics: RecordingMetrics;

  beforeEach(async () => {
    gemini = await new GeminiStandIn().start();
    metrics = new RecordingMetrics();
  });

  afterEach(async () => {
    await gemini.stop();
  });

  function embedder(options: Partial<GeminiEmbedderOptions> = {}): GeminiEmbedder {
    return new GeminiEmbedder({
      apiKey: gemini.apiKey,
      baseUrl: gemini.url,
      dimensions: 256,
      backoffBaseMs: 20,
      metrics,
      ...options,
    });
  }

  it('embeds every text as a unit vector, in order, in batches of at most 100', async () => {
    const texts = Array.from({ length: 230 }, (_, i) => `login fails on android build ${i}`);
    texts[5] = 'dark mode colours are wrong';

    const outcomes = await embedder({ concurrency: 2 }).embed(texts);

    expect(outcomes).toHaveLength(230);
    const vectors = outcomes.map(vectorOf);
    for (const vector of vectors) {
      expect(vector).toHaveLength(256);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    expect(cosine(vectors[0], vectors[1])).toBeGreaterThan(0.6);
    expect(cosine(vectors[0], vectors[5])).toBeLessThan(0.3);
    const batches = gemini.calls('embed');
    expect(batches.map((b) => (b.body as { requests: unknown[] }).requests.length)).toEqual([
      100, 100, 30,
    ]);
    expect(batches[0].path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect((batches[0].body as { requests: unknown[] }).requests[0]).toMatchObject({
      model: 'models/gemini-embedding-001',
      taskType: 'CLUSTERING',
      outputDimensionality: 256,
    });
  });

  it('embeds each text on its own with gemini-embedding-2 (one content per text)', async () => {
    const texts = ['login fails on android', 'dark mode colours are wrong', 'csv export'];

    const outcomes = await embedder({ model: 'gemini-embedding-2' }).embed(texts);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    const [batch] = gemini.calls('embed');
    expect(batch.path).toBe('/v1beta/models/gemini-embedding-2:batchEmbedContents');
    expect((batch.body as { requests: unknown[] }).requests).toHaveLength(3);
    const [a, b] = outcomes.map(vectorOf);
    expect(cosine(a, b)).toBeLessThan(0.3);
  });

  it('stays on the Gemini API whatever Vertex variables the environment holds', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      GOOGLE_GENAI_USE_VERTEXAI: 'true',
      GOOGLE_CLOUD_PROJECT: 'stray-project',
      GOOGLE_CLOUD_LOCATION: 'us-central1',
    });
    try {
      const [outcome] = await embedder().embed(['login fails']);
      expect(outcome.ok).toBe(true);
      expect(gemini.calls('embed')[0].path).toMatch(/^\/v1beta\/models\//);
    } finally {
      process.env = saved;
    }
  });

  it('retries a connection reset while the body is read (undici: terminated)', async () => {
    gemini.inject({ kind: 'cut_body' }, 1, 'embed');

    const [outcome] = await embedder().embed(['login fails on android']);

    expect(outcome.ok).toBe(true);
    expect(gemini.calls('embed')).toHaveLength(2);
    expect(metrics.retries).toBe(1);
  });

  it('never sends more than the 100 requests a batch may hold, whatever it is configured to', async () => {
    const texts = Array.from({ length: 150 }, (_, i) => `export fails ${i}`);

    const outcomes = await embedder({ batchSize: 500 }).embed(texts);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(
      gemini.calls('embed').map((b) => (b.body as { requests: unknown[] }).requests.length),
    ).toEqual([100, 50]);
  });

  it('names its model with the dimensions, so vectors of other sizes never mix', () => {
    expect(embedder({ dimensions: 768 }).model).toBe('gemini-embedding-001@768');
    expect(() => embedder({ dimensions: 5000 })).toThrow(/128 to 3072/);
  });

  it('fails empty texts alone without sending them', async () => {
    const outcomes = await embedder().embed(['', 'crash on start']);

    expect(reasonOf(outcomes[0])).toBe('empty text');
    expect(outcomes[1].ok).toBe(true);
    expect(gemini.calls('embed')).toHaveLength(1);
  });

  it('rides out a burst of 429s, waiting the retry delay the server asked for', async () => {
    gemini.inject({ kind: 'rate_limit', retryDelay: '0.3s' }, 3, 'embed');

    const outcomes = await embedder({ maxRetries: 4 }).embed(['sync is slow', 'sync hangs']);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    const attempts = gemini.calls('embed').map((r) => r.at);
    expect(attempts).toHaveLength(4);
    for (let i = 1; i < attempts.length; i++) {
      expect(attempts[i] - attempts[i - 1]).toBeGreaterThanOrEqual(290);
    }
    expect(metrics.retries).toBe(3);
    expect(metrics.calls).toEqual([{ operation: 'embed', outcome: 'success' }]);
  });

  it('honours a Retry-After header when the body has no RetryInfo', async () => {
    gemini.inject({ kind: 'rate_limit', retryAfterHeader: '1' }, 1, 'embed');

    const outcomes = await embedder().embed(['export to csv breaks']);

    expect(outcomes[0].ok).toBe(true);
    const [first, second] = gemini.calls('embed').map((r) => r.at);
    expect(second - first).toBeGreaterThanOrEqual(990);
  });

  it('stops calling a failing API once the circuit opens, and fails fast', async () => {
    gemini.inject({ kind: 'server_error' }, Infinity, 'embed');
    const failing = embedder({ maxRetries: 1, breakerThreshold: 3, breakerHalfOpenMs: 60_000 });

    const first = await failing.embed(['a broken thing', 'another broken thing']);
    const second = await failing.embed(['one more']);
    const requestsSoFar = gemini.calls('embed').length;
    const started = Date.now();
    const third = await failing.embed(['and another']);

    expect(reasonOf(first[0])).toMatch(/HTTP 500/);
    expect(reasonOf(first[1])).toMatch(/HTTP 500/);
    expect(second.every((o) => !o.ok)).toBe(true);
    expect(reasonOf(third[0])).toMatch(/circuit open/);
    expect(Date.now() - started).toBeLessThan(100);
    expect(gemini.calls('embed')).toHaveLength(requestsSoFar);
    expect(requestsSoFar).toBeLessThanOrEqual(4);
    expect(metrics.calls.at(-1)?.outcome).toBe('circuit_open');
    expect((await failing.checkReady()).ok).toBe(false);
  });

  it('aborts a call that takes longer than the timeout', async () => {
    gemini.inject({ kind: 'slow', ms: 3_000 }, 1, 'embed');
    const started = Date.now();

    const [outcome] = await embedder({ timeoutMs: 200, maxRetries: 0 }).embed(['slow one']);

    expect(reasonOf(outcome)).toMatch(/timed out after 200 ms/);
    expect(Date.now() - started).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(gemini.calls('embed')[0].answer).toBe('aborted');
    expect(metrics.calls).toEqual([{ operation: 'embed', outcome: 'timeout' }]);
  });

  it('fails a batch whose vectors have the wrong dimensions, saying so', async () => {
    gemini.inject({ kind: 'wrong_dimensions', dimensions: 64 }, 1, 'embed');

    const outcomes = await embedder().embed(['a', 'b']);

    for (const outcome of outcomes) {
      expect(reasonOf(outcome)).toMatch(/expected 256-dimensional embeddings, got 64/);
    }
    expect(gemini.calls('embed')).toHaveLength(1);
    expect(metrics.calls).toEqual([{ operation: 'embed', outcome: 'invalid_response' }]);
  });

  it('fails a batch whose response is not JSON', async () => {
    gemini.inject({ kind: 'malformed' }, 1, 'embed');

    const [outcome] = await embedder().embed(['text']);

    expect(reasonOf(outcome)).toMatch(/not valid JSON/);
  });

  it('is ready when the model can be looked up, and not with a wrong key', async () => {
    expect(await embedder().checkReady()).toEqual({
      ok: true,
      detail: 'gemini gemini-embedding-001@256: reachable',
    });
    const wrongKey = await embedder({ apiKey: 'wrong' }).checkReady();
    expect(wrongKey.ok).toBe(false);
    expect(wrongKey.detail).toMatch(/HTTP 400.*API key not valid/);
  });
});
