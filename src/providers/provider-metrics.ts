/** How one call to a provider ended, as counted by the metrics. */
export type ProviderCallOutcome =
  | 'success'
  /** The provider answered with an error, or could not be reached. */
  | 'error'
  | 'timeout'
  /** Not attempted: the circuit breaker is open after repeated failures. */
  | 'circuit_open'
  /** The provider answered, but the answer was unusable (wrong shape, failed validation). */
  | 'invalid_response';

/**
 * Hooks through which the provider adapters report their calls. Bound to Prometheus by the
 * metrics module; `provider` is e.g. `gemini` or `upstash`, `operation` e.g. `embed`.
 */
export interface ProviderMetrics {
  /** One logical call, retries included, with its total duration. */
  call(provider: string, operation: string, outcome: ProviderCallOutcome, seconds: number): void;
  /** One retry of a logical call (after a 429, 5xx, timeout or network error). */
  retry(provider: string, operation: string): void;
  /**
   * The provider's answer was not used and a local substitute was (extractive summary, exact
   * search over the centroids in Redis); `reason` says why, e.g. `model_not_found`.
   */
  fallback(provider: string, operation: string, reason: string): void;
}

export const NO_PROVIDER_METRICS: ProviderMetrics = {
  call: () => undefined,
  retry: () => undefined,
  fallback: () => undefined,
};
