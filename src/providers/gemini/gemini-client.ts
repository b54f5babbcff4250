import { GoogleGenAI } from '@google/genai';
import { ProviderMetrics } from '../provider-metrics';
import { ProviderReadiness } from '../../ports/provider-readiness';
import {
  ProviderError,
  ResilienceOptions,
  ResilientCaller,
  resilienceWithDefaults,
} from '../resilient-call';
import { GeminiConnection, geminiClient, toProviderError } from './gemini-errors';

/** A recent successful call proves readiness for this long. */
const READY_WITHIN_MS = 60_000;

/** What every Gemini adapter calls through: the SDK client and the resilient caller. */
export interface GeminiAccess {
  ai: GoogleGenAI;
  caller: ResilientCaller;
}

/** The client for `options`, and a caller with the adapter's resilience defaults. */
export function geminiAccess(
  options: GeminiConnection & Partial<ResilienceOptions>,
  defaults: ResilienceOptions,
  metrics: ProviderMetrics,
): GeminiAccess {
  return {
    ai: geminiClient(options),
    caller: new ResilientCaller('gemini', resilienceWithDefaults(defaults, options), metrics),
  };
}

/**
 * Ready when a call succeeded in the last minute (`recentWork` says what it did), or
 * `apiModel` can be looked up now; `label` names the adapter in the details.
 */
export async function checkGeminiReady(
  { ai, caller }: GeminiAccess,
  apiModel: string,
  label: string,
  recentWork: string,
): Promise<ProviderReadiness> {
  if (caller.circuitOpen) {
    return { ok: false, detail: `${label}: circuit open after repeated failures` };
  }
  if (caller.succeededRecently(READY_WITHIN_MS)) {
    return { ok: true, detail: `${label}: ${recentWork} within the last minute` };
  }
  try {
    await caller.run('get_model', (abortSignal) =>
      ai.models.get({ model: apiModel, config: { abortSignal } }).catch((error: unknown) => {
        throw toProviderError(error, null);
      }),
    );
    return { ok: true, detail: `${label}: reachable` };
  } catch (error) {
    if (error instanceof ProviderError && /^HTTP 404/.test(error.message)) {
      return {
        ok: false,
        modelNotFound: true,
        detail: `${label}: model ${apiModel} not found (HTTP 404): unusable, check the model variable`,
      };
    }
    return { ok: false, detail: caller.describe(error) };
  }
}
