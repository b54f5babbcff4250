import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A consumer name unique to this process, readable in XINFO CONSUMERS. */
export function uniqueConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
