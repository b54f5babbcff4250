import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { DistributedLock, LockLease } from '../redis/distributed-lock';
import { REDIS } from '../redis/redis.module';

/** The lock that lets one sweep run at a time across all replicas. */
export const SWEEP_LOCK_KEY = 'clustering:lock:sweep';
/** Pause between attempts while waiting for a running sweep to finish. */
const RETRY_INTERVAL_MS = 250;

/** Raised when the sweep lock expired under its holder: another sweep may be running now. */
export class SweepLockLostError extends Error {
  override name = 'SweepLockLostError';
}

/**
 * A held sweep lock. It is extended every third of its expiry while held, so a running
 * sweep keeps it and a dead holder's lock expires; a failed extension marks it lost.
 */
export class SweepLease {
  private readonly logger = new Logger(SweepLease.name);
  private lostLock = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly lock: DistributedLock,
    private readonly lease: LockLease,
    ttlMs: number,
  ) {
    this.heartbeat = setInterval(() => void this.extend(), Math.max(100, Math.floor(ttlMs / 3)));
    this.heartbeat.unref();
  }

  get lost(): boolean {
    return this.lostLock;
  }

  /** Stops work that must not overlap another sweep once the lock is gone. */
  assertHeld(): void {
    if (this.lostLock) throw new SweepLockLostError('the sweep lock expired while the sweep ran');
  }

  async release(): Promise<void> {
    clearInterval(this.heartbeat);
    if (!this.lostLock) await this.lock.release(this.lease);
  }

  private async extend(): Promise<void> {
    try {
      if (!(await this.lock.extend(this.lease))) {
        this.lostLock = true;
        clearInterval(this.heartbeat);
      }
    } catch (error) {
      // Redis unreachable: the next beat tries again; if the lock expires meanwhile, that fails.
      this.logger.warn(`could not extend the sweep lock: ${String(error)}`);
    }
  }
}

@Injectable()
export class SweepLock {
  private readonly lock: DistributedLock;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly env: Environment,
  ) {
    this.lock = new DistributedLock(redis, SWEEP_LOCK_KEY, env.SWEEP_LOCK_TTL_MS);
  }

  /** Whether a sweep is running somewhere (its lock is held). */
  async isHeld(): Promise<boolean> {
    return (await this.redis.exists(SWEEP_LOCK_KEY)) === 1;
  }

  /** One attempt: the lease, or undefined when a sweep is running somewhere. */
  async tryAcquire(): Promise<SweepLease | undefined> {
    const lease = await this.lock.tryAcquire();
    return lease && new SweepLease(this.lock, lease, this.env.SWEEP_LOCK_TTL_MS);
  }

  /** Waits up to `waitMs` for a running sweep to finish. */
  async acquire(waitMs: number): Promise<SweepLease | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lease = await this.tryAcquire();
      if (lease || Date.now() >= deadline) return lease;
      await new Promise((resolve) => setTimeout(resolve, RETRY_INTERVAL_MS));
    }
  }
}
