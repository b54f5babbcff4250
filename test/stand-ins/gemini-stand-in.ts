import { createHash } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { delayUnlessClosed, JsonHttpServer, readBody, sendJson } from './json-http-server';

/** What the stand-in does instead of answering normally. */
export type GeminiFault =
  /** 429 RESOURCE_EXHAUSTED with a RetryInfo `retryDelay` (e.g. '1s') and/or a Retry-After header. */
  | { kind: 'rate_limit'; retryDelay?: string; retryAfterHeader?: string }
  | { kind: 'server_error' }
  /** Answers normally, but only after this long (the client should have given up). */
  | { kind: 'slow'; ms: number }
  /** 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** Embeddings of this many dimensions instead of the requested ones. */
  | { kind: 'wrong_dimensions'; dimensions: number }
  /** A candidate that ended otherwise than STOP (MAX_TOKENS, SAFETY, RECITATION, ...), text cut. */
  | { kind: 'finish_reason'; reason: string }
  /** The prompt itself refused: `promptFeedback.blockReason` and no candidates, as Gemini does. */
  | { kind: 'blocked'; reason: string }
  /** The connection is cut after the headers, while the client reads the body (undici: `terminated`). */
  | { kind: 'cut_body' };

/** Models the stand-in serves; any other answers 404 NOT_FOUND, as a retired model does. */
export const STAND_IN_MODELS = [
  'gemini-embedding-001',
  'gemini-embedding-2',
  'gemini-3.5-flash',
  'gemini-3.5-flash-lite',
  'gemini-2.5-pro',
  'gemini-2.5-flash',
];

/** `batchEmbedContents` takes at most this many requests, like the real API. */
const MAX_BATCH_REQUESTS = 100;

export type GeminiOperation = 'embed' | 'generate' | 'get_model';

export interface RecordedGeminiRequest {
  method: string;
  path: string;
  operation: GeminiOperation | 'unknown';
  at: number;
  body: unknown;
  /** What was sent back: a status, or 'aborted' when the client hung up first. */
  answer?: number | 'aborted';
}

interface QueuedFault {
  fault: GeminiFault;
  operation?: GeminiOperation;
  remaining: number;
}

/**
 * A local stand-in for the Gemini Developer API (the subset the adapters use):
 * `POST /v1beta/models/{model}:batchEmbedContents`, `POST /v1beta/models/{model}:generateContent`
 * and `GET /v1beta/models/{model}`, all checking the `x-goog-api-key` header. As strictly as
 * Gemini: the model in the path must be one it serves (else 404), a batch holds at most 100
 * requests (else 400), and faults cover finish reasons other than STOP and blocked prompts.
 *
 * Embeddings are deterministic hashed bags of words (texts sharing words are similar), and
 * deliberately not unit length, as Gemini's are not below 3072 dimensions.
 * `generateContent` answers the scripted summaries in order, then a plain valid summary.
 */
export class GeminiStandIn extends JsonHttpServer {
  readonly requests: RecordedGeminiRequest[] = [];
  /** Each `generateContent` answers after a delay drawn uniformly from this range (ms). */
  summaryLatencyMs: [number, number] = [0, 0];
  private readonly faults: QueuedFault[] = [];
  private readonly summaries: string[] = [];

  /**
   * @param embeddings how texts become vectors: hashed bags of words by default, or e.g.
   *   `ShiftedSemanticEmbeddings` for a hosted model's value distribution
   * @param models the models it serves; any other answers 404
   */
  constructor(
    readonly apiKey = 'test-gemini-key',
    private readonly embeddings: StandInEmbeddings = hashedBagsOfWords,
    readonly models: readonly string[] = STAND_IN_MODELS,
  ) {
    super();
  }

  /** The next `times` calls (of `operation`, or any) meet `fault`; `Infinity` for an outage. */
  inject(fault: GeminiFault, times = 1, operation?: GeminiOperation): void {
    this.faults.push({ fault, operation, remaining: times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The next `generateContent` answers this text as the model's output. */
  scriptSummary(text: string): void {
    this.summaries.push(text);
  }

  /** Requests of one operation. */
  calls(operation: GeminiOperation): RecordedGeminiRequest[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    const raw = await readBody(req);
    const operation = operationOf(req.method ?? '', path);
    const record: RecordedGeminiRequest = {
      method: req.method ?? '',
      path,
      operation,
      at: Date.now(),
      body: parseJson(raw),
    };
    this.requests.push(record);
    res.on('close', () => {
      record.answer = res.writableFinished ? res.statusCode : 'aborted';
    });

    if (req.headers['x-goog-api-key'] !== this.apiKey) {
      return googleError(
        res,
        400,
        'INVALID_ARGUMENT',
        'API key not valid. Please pass a valid API key.',
      );
    }
    if (operation === 'unknown') return googleError(res, 404, 'NOT_FOUND', `no route ${path}`);
    const model = /^\/v1beta\/models\/([^/:]+)/.exec(path)?.[1] ?? '';
    if (!this.models.includes(model)) {
      return googleError(
        res,
        404,
        'NOT_FOUND',
        `models/${model} is not found for API version v1beta, or is not supported for ${operation}.`,
      );
    }

    const fault = this.takeFault(operation);
    switch (fault?.kind) {
      case 'rate_limit': {
        const details = fault.retryDelay
          ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: fault.retryDelay }]
          : [];
        const headers: Record<string, string> = fault.retryAfterHeader
          ? { 'retry-after': fault.retryAfterHeader }
          : {};
        return googleError(res, 429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', details, headers);
      }
      case 'server_error':
        return googleError(res, 500, 'INTERNAL', 'Internal error encountered.');
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"embeddings": [{"values": [0.1, ');
        return;
      case 'slow':
        if (!(await delayUnlessClosed(res, fault.ms))) return;
        break;
      case 'cut_body':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"candidates": [');
        res.socket?.destroy();
        return;
      default:
        break;
    }

    const body = record.body as Record<string, unknown> | undefined;
    if (operation === 'get_model') {
      const name = path.replace(/^\/v1beta\//, '');
      return sendJson(res, 200, { name, displayName: name, supportedGenerationMethods: [] });
    }
    if (operation === 'embed') {
      const requests = (body?.requests as unknown[] | undefined)?.length ?? 0;
      if (requests > MAX_BATCH_REQUESTS) {
        return googleError(
          res,
          400,
          'INVALID_ARGUMENT',
          `* BatchEmbedContentsRequest.requests: at most ${MAX_BATCH_REQUESTS} requests can be in one batch`,
        );
      }
      const wrongDimensions = fault?.kind === 'wrong_dimensions' ? fault.dimensions : undefined;
      return sendJson(res, 200, { embeddings: await this.embed(body, wrongDimensions) });
    }
    const [least, most] = this.summaryLatencyMs;
    if (most > 0 && !(await delayUnlessClosed(res, least + Math.random() * (most - least)))) return;
    if (fault?.kind === 'blocked') {
      return sendJson(res, 200, {
        promptFeedback: { blockReason: fault.reason },
        modelVersion: model,
      });
    }
    const text = this.summaries.shift() ?? JSON.stringify(plainSummary(body));
    const cut = fault?.kind === 'finish_reason';
    return sendJson(res, 200, {
      candidates: [
        {
          content: {
            parts: [{ text: cut ? text.slice(0, text.length >> 1) : text }],
            role: 'model',
          },
          finishReason: cut ? fault.reason : 'STOP',
          index: 0,
        },
      ],
      modelVersion: model,
    });
  }

  private takeFault(operation: GeminiOperation): GeminiFault | undefined {
    const queued = this.faults.find((f) => f.operation === undefined || f.operation === operation);
    if (!queued) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.faults.splice(this.faults.indexOf(queued), 1);
    return queued.fault;
  }

  private async embed(body: Record<string, unknown> | undefined, forcedDimensions?: number) {
    const requests = Array.isArray(body?.requests) ? (body.requests as EmbedRequest[]) : [];
    const texts = requests.map((r) => (r.content?.parts ?? []).map((p) => p.text ?? '').join(' '));
    const dimensions = forcedDimensions ?? requests[0]?.outputDimensionality ?? 3072;
    const vectors = await this.embeddings.embed(texts, dimensions);
    return vectors.map((v) => ({ values: Array.from(v) }));
  }
}

/** Turns texts into vectors of the requested dimensions, as the stand-in's model. */
export interface StandInEmbeddings {
  embed(texts: readonly string[], dimensions: number): Promise<Float32Array[]>;
}

const hashedBagsOfWords: StandInEmbeddings = {
  embed: (texts, dimensions) =>
    Promise.resolve(texts.map((t) => Float32Array.from(hashedBagOfWords(t, dimensions)))),
};

interface EmbedRequest {
  content?: { parts?: Array<{ text?: string }> };
  outputDimensionality?: number;
}

/** Each word adds ±3 to one hashed dimension: shared words make texts similar. */
export function hashedBagOfWords(text: string, dimensions: number): number[] {
  const values = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const digest = createHash('sha1').update(word).digest();
    const slot = digest.readUInt32LE(0) % dimensions;
    values[slot] += digest[4] & 1 ? 3 : -3;
  }
  return values;
}

/** A valid summary naming the first item of the prompt, for unscripted calls. */
function plainSummary(body: Record<string, unknown> | undefined) {
  const words =
    firstItemTitle(body)
      .match(/[a-z]{4,}/gi)
      ?.slice(0, 6)
      .join(' ') ?? 'feedback';
  return {
    title: `Cluster about ${words}`.slice(0, 80),
    summary: `Users report problems about ${words}.`,
    issue_title: `Investigate ${words}`.slice(0, 100),
    issue_description: `Several users report problems about ${words}. Reproduce and fix.`,
  };
}

/** The first item's title in a prompt that is one JSON document of data (the whole text otherwise). */
function firstItemTitle(body: Record<string, unknown> | undefined): string {
  const contents = body?.contents as Array<{ parts?: Array<{ text?: string }> }> | undefined;
  const text = contents?.[0]?.parts?.[0]?.text ?? '';
  try {
    const data = JSON.parse(text) as { items?: Array<{ title?: unknown }> };
    const title = data.items?.[0]?.title;
    return typeof title === 'string' && title ? title : text;
  } catch {
    return text;
  }
}

function operationOf(method: string, path: string): GeminiOperation | 'unknown' {
  if (method === 'POST' && /^\/v1beta\/models\/[^/:]+:batchEmbedContents$/.test(path))
    return 'embed';
  if (method === 'POST' && /^\/v1beta\/models\/[^/:]+:generateContent$/.test(path))
    return 'generate';
  if (method === 'GET' && /^\/v1beta\/models\/[^/:]+$/.test(path)) return 'get_model';
  return 'unknown';
}

function googleError(
  res: ServerResponse,
  code: number,
  status: string,
  message: string,
  details: unknown[] = [],
  headers: Record<string, string> = {},
): void {
  sendJson(res, code, { error: { code, message, status, details } }, headers);
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return text;
  }
}
