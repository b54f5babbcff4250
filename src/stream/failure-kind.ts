import { isBrokenCircuitError, TaskCancelledError } from 'cockatiel';
import { ProviderError } from '../providers/resilient-call';
import { LockLostError, LockTimeoutError } from '../redis/distributed-lock';

/**
 * Redis replies that describe the server's state, not the data: out of memory, loading,
 * busy script, read-only replica after a failover, no quorum, a group lost to a flush; and
 * our scripts' FENCED (the lock expired) and CONFLICT (clusters changed under the plan),
 * which planning again under the lock resolves.
 */
const SERVER_STATE_REPLY =
  /^(OOM|LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF|NOGROUP|EXECABORT|FENCED|CONFLICT)\b/;
/** Connection-level failures of the client (ioredis, Node's sockets). */
const CONNECTION_FAILURE =
  /Connection is closed|Stream isn't writeable|Reached the max retries per request|Command timed out|socket (hang up|closed)/i;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether a failure is an outage rather than something about the items in hand: Redis
 * unreachable or refusing, the assignment lock not had in time or lost, a provider down,
 * rate limiting, timing out or behind an open circuit. Outages keep the entries pending with
 * backoff and never count towards MAX_DELIVERIES; anything else may be the item's fault.
 */
export function isTransientFailure(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    if (isOutage(cause)) return true;
    cause = cause.cause;
  }
  return false;
}

function isOutage(error: Error): boolean {
  if (
    error instanceof LockTimeoutError ||
    error instanceof LockLostError ||
    error instanceof TaskCancelledError ||
    isBrokenCircuitError(error)
  ) {
    return true;
  }
  if (error instanceof ProviderError) return error.transient;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    SERVER_STATE_REPLY.test(error.message) ||
    CONNECTION_FAILURE.test(error.message)
  );
}
