import { Logger } from '@nestjs/common';
import { EventStream } from './event-stream';

const logger = new Logger('ClaimKeeper');

/**
 * Keeps entries in hand claimed: renews them (XCLAIM JUSTID, see `EventStream.renewClaims`)
 * every third of `claimIdleMs`, so that work slower than the idle timeout is never claimed
 * and done a second time by another consumer. `release` stops renewing (after ack, or when
 * the entries are to be left to others).
 */
export function holdClaims(
  stream: EventStream,
  entryIds: readonly string[],
  claimIdleMs: number,
): { release(): void } {
  if (entryIds.length === 0) return { release: () => {} };
  const timer = setInterval(
    () => {
      stream.renewClaims(entryIds).catch((error: unknown) => {
        // Redis unreachable: nobody can claim meanwhile; the next beat tries again.
        logger.warn(`could not renew the claim on ${entryIds.length} entries: ${String(error)}`);
      });
    },
    Math.max(100, Math.floor(claimIdleMs / 3)),
  );
  timer.unref();
  return { release: () => clearInterval(timer) };
}
