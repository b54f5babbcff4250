import { createHmac, timingSafeEqual } from 'node:crypto';

/** Longest pause between two deliveries of one alert. */
const MAX_RETRY_DELAY_MS = 3_600_000;

/** The `X-Alert-Signature` value of `body`: `sha256=` and the hex HMAC-SHA256 of the raw body. */
export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Whether `signature` is `body`'s under `secret` (constant time), as a receiver checks it. */
export function verifySignature(secret: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signatureOf(secret, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The pause after the `failures`-th failed delivery: `baseMs` doubled each time, capped at 1 h. */
export function retryDelayMs(failures: number, baseMs: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, failures - 1));
}

/** The configured sizes a cluster of `size` items has reached, smallest first. */
export function sizesReached(size: number, sizes: readonly number[]): number[] {
  return [...new Set(sizes)].filter((threshold) => size >= threshold).sort((a, b) => a - b);
}
