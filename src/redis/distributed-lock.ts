import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { runScript } from './lua-scripts';

/** A held lock. `token` fences writes: scripts check it before writing. */
export interface LockLease {
  key: string;
  token: string;
}

/** Raised when a lock could not be had in time; nothing was done under it. */
export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
}

/** Raised when a lock passed to another holder (or expired) while its work ran. */
export class LockLostError extends Error {
  override name = 'LockLostError';
}

/**
 * A lease kept by a heartbeat: it is extended every third of the lock's expiry while held,
 * so a holder that is alive keeps the lock however long its work runs, and a dead one's
 * lock expires. A failed extension (another token holds the key, or it expired) marks it
 * lost; the writes' fencing then refuses the old token anyway, `assertHeld` stops work early.
 */
export class KeptLease implements LockLease {
  private readonly logger = new Logger(KeptLease.name);
  private lostLock = false;
  private stopped = false;
  private beat?: NodeJS.Timeout;

  constructor(
    private readonly lock: DistributedLock,
    private readonly lease: LockLease,
    private readonly intervalMs: number,
  ) {
    this.schedule();
  }

  get key(): string {
    return this.lease.key;
  }

  get token(): string {
    return this.lease.token;
  }

  get lost(): boolean {
    return this.lostLock;
  }

  assertHeld(): void {
    if (this.lostLock) throw new LockLostError(`the lock ${this.key} was lost while held`);
  }

  /** Stops the heartbeat and frees the lock (if still this lease's). */
  async release(): Promise<boolean> {
    this.stopped = true;
    clearTimeout(this.beat);
    return this.lock.release(this.lease);
  }

  // One extension at a time: the next is scheduled when the last has answered.
  private schedule(): void {
    this.beat = setTimeout(() => void this.extend(), this.intervalMs);
    this.beat.unref();
  }

  private async extend(): Promise<void> {
    try {
      const extended = await this.lock.extend(this.lease);
      if (this.stopped) return;
      if (!extended) {
        this.lostLock = true;
        this.logger.warn(`lost the lock ${this.key}: it expired or another holder took it`);
        return;
      }
    } catch (error) {
      if (this.stopped) return;
      // Redis unreachable: the next beat tries again; if the lock expires meanwhile, that fails.
      this.logger.warn(`could not extend the lock ${this.key}: ${String(error)}`);
    }
    this.schedule();
  }
}

export interface LockRunOptions {
  /** How long to wait for the lock before giving up with a LockTimeoutError. */
  waitMs: number;
}

/**
 * A Redis lock that expires if its holder dies and cannot be released or extended by
 * anyone but its holder (each acquisition has its own random token).
 */
export class DistributedLock {
  /**
   * @param ttlMs a holder that dies (or stalls, heartbeat and all) frees the lock within this
   * @param retryMs pause between attempts while waiting, jittered up to 5x so waiters spread out
   */
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly ttlMs: number,
    private readonly retryMs = 2,
  ) {}

  /** One attempt. Returns the lease, or undefined when another holder has it. */
  async tryAcquire(): Promise<LockLease | undefined> {
    const token = randomUUID();
    const ok = await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX');
    return ok === 'OK' ? { key: this.key, token } : undefined;
  }

  /** Waits (polling with a jittered sleep) until acquired or `timeoutMs` passes. */
  async acquire(timeoutMs: number): Promise<LockLease | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lease = await this.tryAcquire();
      if (lease) return lease;
      if (Date.now() >= deadline) return undefined;
      const pause = this.retryMs * (1 + Math.random() * 4);
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, deadline - Date.now())));
    }
  }

  /** Starts the heartbeat of a lease just acquired; release it through the kept lease. */
  keep(lease: LockLease): KeptLease {
    return new KeptLease(this, lease, Math.max(50, Math.floor(this.ttlMs / 3)));
  }

  /** Whether anyone holds the lock. */
  async isHeld(): Promise<boolean> {
    return (await this.redis.exists(this.key)) === 1;
  }

  async extend(lease: LockLease): Promise<boolean> {
    return (
      (await runScript(this.redis, 'extendLock', [lease.key], [lease.token, this.ttlMs])) === 1
    );
  }

  async release(lease: LockLease): Promise<boolean> {
    return (await runScript(this.redis, 'releaseLock', [lease.key], [lease.token])) === 1;
  }

  /**
   * Runs `work` holding the lock, kept by a heartbeat, and frees it after (whatever the
   * outcome). Throws LockTimeoutError when the lock is not had within `waitMs`.
   */
  async run<T>(work: (lease: KeptLease) => Promise<T>, options: LockRunOptions): Promise<T> {
    const lease = await this.acquire(options.waitMs);
    if (!lease) throw new LockTimeoutError(`timed out waiting for the lock ${this.key}`);
    return this.holding(lease, work);
  }

  /** As `run`, but only if the lock is free now: undefined (work not run) when it is held. */
  async runIfFree<T>(work: (lease: KeptLease) => Promise<T>): Promise<{ result: T } | undefined> {
    const lease = await this.tryAcquire();
    return lease && { result: await this.holding(lease, work) };
  }

  private async holding<T>(lease: LockLease, work: (lease: KeptLease) => Promise<T>): Promise<T> {
    const kept = this.keep(lease);
    try {
      return await work(kept);
    } finally {
      await kept.release();
    }
  }
}
