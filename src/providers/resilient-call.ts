import {
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  IPolicy,
  IRetryBackoffContext,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { ProviderCallOutcome, ProviderMetrics } from './provider-metrics';

/** Retry, timeout and circuit-breaker settings of one provider adapter. */
export interface ResilienceOptions {
  /** Each attempt is aborted after this long. */
  timeoutMs: number;
  /** Retries after the first attempt, for 429, 5xx, timeouts and network errors. */
  maxRetries: number;
  /** First backoff; doubles per retry, with jitter. */
  backoffBaseMs: number;
  /** Longest backoff, and the longest server-requested delay waited for (longer: give up). */
  backoffMaxMs: number;
  /** Consecutive transient failures that open the circuit. */
  breakerThreshold: number;
  /** How long an open circuit rejects calls before one trial call is let through. */
  breakerHalfOpenMs: number;
}

/** `defaults` with the settings `given` overrides (undefined ones ignored). */
export function resilienceWithDefaults(
  defaults: ResilienceOptions,
  given: Partial<ResilienceOptions>,
): ResilienceOptions {
  const merged = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof ResilienceOptions)[]) {
    merged[key] = given[key] ?? defaults[key];
  }
  return merged;
}

/** An error from a provider call, classified for retrying. */
export class ProviderError extends Error {
  override name = 'ProviderError';

  constructor(
    message: string,
    /** A 429, 5xx or network failure: worth retrying, and counted by the circuit breaker. */
    readonly transient: boolean,
    /** The delay the server asked for (RetryInfo or Retry-After), in ms. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The provider answered, but with something unusable; not retried, not held against the circuit. */
export class InvalidResponseError extends ProviderError {
  override name = 'InvalidResponseError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, false, undefined, options);
  }
}

/** Parses a `Retry-After` header: delta-seconds or an HTTP date. */
export function parseRetryAfterHeader(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Whether an HTTP status is worth retrying (rate limited, or the server failed). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Runs provider calls through one shared policy: per-attempt timeout (the signal aborts the
 * request), a circuit breaker shared by all calls of the adapter, and retries with
 * exponential backoff and jitter that wait at least as long as the server asked.
 */
export class ResilientCaller {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly policy: IPolicy<{ attempt: number; signal: AbortSignal }>;
  private lastSuccess = 0;

  constructor(
    private readonly provider: string,
    private readonly options: ResilienceOptions,
    private readonly metrics: ProviderMetrics,
  ) {
    const isTransient = (error: Error) =>
      isTimeout(error) || (error instanceof ProviderError && error.transient);
    this.breaker = circuitBreaker(handleWhen(isTransient), {
      halfOpenAfter: options.breakerHalfOpenMs,
      breaker: new ConsecutiveBreaker(options.breakerThreshold),
    });
    const retryable = (error: Error) =>
      isTransient(error) &&
      !(error instanceof ProviderError && (error.retryAfterMs ?? 0) > options.backoffMaxMs);
    const retries = retry(handleWhen(retryable), {
      maxAttempts: options.maxRetries,
      backoff: new DelegateBackoff((context: IRetryBackoffContext<unknown>) =>
        this.backoffMs(context),
      ),
    });
    this.policy = wrap(
      retries,
      this.breaker,
      timeout(options.timeoutMs, TimeoutStrategy.Aggressive),
    );
  }

  /** Runs `call` with the policy; it must pass `signal` on so a timeout aborts the request. */
  async run<T>(operation: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await this.policy.execute(({ attempt, signal }) => {
        if (attempt > 0) this.metrics.retry(this.provider, operation);
        return call(signal);
      });
      this.lastSuccess = Date.now();
      this.metrics.call(this.provider, operation, 'success', seconds());
      return result;
    } catch (error) {
      this.metrics.call(this.provider, operation, outcomeOf(error), seconds());
      throw error;
    }
  }

  get circuitOpen(): boolean {
    return this.breaker.state === CircuitState.Open || this.breaker.state === CircuitState.Isolated;
  }

  /** Whether a call succeeded within the last `withinMs`. */
  succeededRecently(withinMs: number): boolean {
    return Date.now() - this.lastSuccess < withinMs;
  }

  /** A human-readable reason for a failed call, e.g. for `{ ok: false, reason }`. */
  describe(error: unknown): string {
    if (isTimeout(error)) return `${this.provider} timed out after ${this.options.timeoutMs} ms`;
    if (isBrokenCircuitError(error)) {
      return `${this.provider} circuit open after repeated failures; not called`;
    }
    const message = error instanceof Error ? error.message : String(error);
    return `${this.provider}: ${message}`;
  }

  private backoffMs(context: IRetryBackoffContext<unknown>): number {
    const { backoffBaseMs, backoffMaxMs } = this.options;
    const error = 'error' in context.result ? context.result.error : undefined;
    const requested = error instanceof ProviderError ? error.retryAfterMs : undefined;
    if (requested !== undefined) {
      // Never earlier than asked; a little jitter so replicas don't all return at once.
      return requested + Math.random() * backoffBaseMs * 0.5;
    }
    const exponential = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (context.attempt - 1));
    return exponential / 2 + (Math.random() * exponential) / 2;
  }
}

function outcomeOf(error: unknown): ProviderCallOutcome {
  if (isTimeout(error)) return 'timeout';
  if (isBrokenCircuitError(error)) return 'circuit_open';
  if (error instanceof InvalidResponseError) return 'invalid_response';
  return 'error';
}

/** (cockatiel 3.2's `isTaskCancelledError` tests for the wrong marker, so `instanceof`.) */
function isTimeout(error: unknown): boolean {
  return error instanceof TaskCancelledError;
}
