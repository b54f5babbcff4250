import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { runScript } from './lua-scripts';

/** A held lock. `token` fences writes: scripts check it before writing. */
export interface LockLease {
  key: string;
  token: string;
}

/**
 * A Redis lock that expires if its holder dies and cannot be released or extended by
 * anyone but its holder (each acquisition has its own random token).
 */
export class DistributedLock {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {}

  /** One attempt. Returns the lease, or undefined when another holder has it. */
  async tryAcquire(): Promise<LockLease | undefined> {
    const token = randomUUID();
    const ok = await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX');
    return ok === 'OK' ? { key: this.key, token } : undefined;
  }

  /** Waits (polling with a short jittered sleep) until acquired or `timeoutMs` passes. */
  async acquire(timeoutMs: number): Promise<LockLease | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lease = await this.tryAcquire();
      if (lease) return lease;
      if (Date.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 8));
    }
  }

  async extend(lease: LockLease): Promise<boolean> {
    return (
      (await runScript(this.redis, 'extendLock', [lease.key], [lease.token, this.ttlMs])) === 1
    );
  }

  async release(lease: LockLease): Promise<boolean> {
    return (await runScript(this.redis, 'releaseLock', [lease.key], [lease.token])) === 1;
  }
}
