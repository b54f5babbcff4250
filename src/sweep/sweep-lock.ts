import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { DistributedLock, KeptLease } from '../redis/distributed-lock';
import { Keyspace } from '../redis/keyspace';
import { KEYSPACE, REDIS } from '../redis/redis.module';

/** Pause between attempts while waiting for a running sweep to finish. */
const RETRY_INTERVAL_MS = 50;

/**
 * The sweep lock. A held lease is kept by its heartbeat, so a running sweep keeps it however
 * long it runs and a dead holder's lock expires (SWEEP_LOCK_TTL_MS); a lease that lost it says
 * so (`lost`, `assertHeld`), so work that must not overlap another sweep stops.
 */
@Injectable()
export class SweepLock {
  private readonly lock: DistributedLock;

  constructor(@Inject(REDIS) redis: Redis, @Inject(KEYSPACE) keys: Keyspace, env: Environment) {
    this.lock = new DistributedLock(
      redis,
      keys.service.sweepLock,
      env.SWEEP_LOCK_TTL_MS,
      RETRY_INTERVAL_MS,
    );
  }

  /** Whether a sweep is running somewhere (its lock is held). */
  isHeld(): Promise<boolean> {
    return this.lock.isHeld();
  }

  /** One attempt: the lease, or undefined when a sweep is running somewhere. */
  async tryAcquire(): Promise<KeptLease | undefined> {
    const lease = await this.lock.tryAcquire();
    return lease && this.lock.keep(lease);
  }

  /** Waits up to `waitMs` for a running sweep to finish. */
  async acquire(waitMs: number): Promise<KeptLease | undefined> {
    const lease = await this.lock.acquire(waitMs);
    return lease && this.lock.keep(lease);
  }
}
