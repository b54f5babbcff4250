import { ApiError, GoogleGenAI } from '@google/genai';
import {
  InvalidResponseError,
  ProviderError,
  isTransientStatus,
  parseRetryAfterHeader,
} from '../resilient-call';

/** Where the Gemini API is, and the key for it. */
export interface GeminiConnection {
  apiKey: string;
  /** Defaults to Google's endpoint; tests point it at a local stand-in. */
  baseUrl?: string;
}

/**
 * A client on the platform's `fetch`. (Left alone, the SDK installs its own undici
 * dispatcher, which fails inside Jest's sandbox; our own timeouts make it unnecessary.)
 * Pinned to the Gemini API: stray `GOOGLE_GENAI_USE_VERTEXAI` / project variables in a task's
 * environment would otherwise send the calls (and the key) to Vertex AI.
 */
export function geminiClient({ apiKey, baseUrl }: GeminiConnection): GoogleGenAI {
  return new GoogleGenAI({
    vertexai: false,
    apiKey,
    httpOptions: {
      ...(baseUrl ? { baseUrl } : {}),
      fetch: (...args: Parameters<typeof fetch>) => fetch(...args),
    },
  });
}

/**
 * A `fetch` for one SDK call that remembers the response's `Retry-After` header: the SDK's
 * `ApiError` keeps only the status and body, and the header is the server's other way of
 * saying how long to wait.
 */
export function fetchRecordingRetryAfter(): {
  fetch: typeof fetch;
  retryAfter: () => string | null;
} {
  let retryAfter: string | null = null;
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      retryAfter = response.headers.get('retry-after');
      return response;
    },
    retryAfter: () => retryAfter,
  };
}

/** Converts what the SDK threw into a classified error (or returns it unchanged). */
export function toProviderError(error: unknown, retryAfterHeader: string | null): unknown {
  if (error instanceof ApiError) {
    const body = parseErrorBody(error.message);
    const retryAfterMs = body?.retryDelayMs ?? parseRetryAfterHeader(retryAfterHeader);
    const detail = body ? `${body.status ?? ''} ${body.message ?? ''}`.trim() : error.message;
    return new ProviderError(
      `HTTP ${error.status}${detail ? `: ${detail.slice(0, 300)}` : ''}`,
      isTransientStatus(error.status),
      retryAfterMs,
      { cause: error },
    );
  }
  // By name and message: these come from the platform's fetch, whose classes may belong to
  // another realm (the SDK then wraps them as "exception … sending request").
  const { name, message } = nameAndMessage(error);
  if (name === 'SyntaxError') {
    return new InvalidResponseError('response is not valid JSON', { cause: error });
  }
  if (isNetworkFailure(error)) {
    return new ProviderError(`network error: ${message.slice(0, 200)}`, true, undefined, {
      cause: error,
    });
  }
  return error;
}

/**
 * Failures of the connection rather than answers: the request could not be sent, or the
 * connection broke while the body was read (undici says `terminated`; the cause is a reset).
 */
const NETWORK_FAILURE =
  /fetch failed|\bterminated\b|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up|other side closed|UND_ERR_/i;

function isNetworkFailure(error: unknown): boolean {
  // The SDK wraps what fetch threw; the reason is in the message or a cause a few levels down.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const { message } = nameAndMessage(current);
    const code = (current as { code?: unknown }).code;
    if (NETWORK_FAILURE.test(message) || (typeof code === 'string' && NETWORK_FAILURE.test(code)))
      return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function nameAndMessage(error: unknown): { name: string; message: string } {
  if (typeof error !== 'object' || error === null) return { name: '', message: String(error) };
  const { name, message } = error as { name?: unknown; message?: unknown };
  return {
    name: typeof name === 'string' ? name : '',
    message: typeof message === 'string' ? message : '',
  };
}

interface ErrorBody {
  status?: string;
  message?: string;
  retryDelayMs?: number;
}

/** Google's error body: `{ error: { code, message, status, details: [{ '@type': ...RetryInfo, retryDelay: '1.5s' }] } }`. */
function parseErrorBody(text: string): ErrorBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  if (!error) return undefined;
  const details = Array.isArray(error.details) ? (error.details as unknown[]) : [];
  const retryInfo = details.find(
    (d): d is Record<string, unknown> =>
      isRecord(d) && typeof d['@type'] === 'string' && d['@type'].endsWith('google.rpc.RetryInfo'),
  );
  const delay =
    typeof retryInfo?.retryDelay === 'string'
      ? /^(\d+(?:\.\d+)?)s$/.exec(retryInfo.retryDelay)
      : null;
  return {
    status: typeof error.status === 'string' ? error.status : undefined,
    message: typeof error.message === 'string' ? error.message : undefined,
    retryDelayMs: delay ? Number(delay[1]) * 1000 : undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
