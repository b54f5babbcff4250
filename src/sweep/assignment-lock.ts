import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { DistributedLock, LockLease } from '../redis/distributed-lock';
import { Keyspace } from '../redis/keyspace';
import { KEYSPACE, REDIS } from '../redis/redis.module';

/** As the pipeline's: a holder that dies frees the lock within this time. */
const ASSIGN_LOCK_TTL_MS = 15_000;

/** Raised when the assignment lock could not be had in time; nothing was changed. */
export class AssignmentLockTimeoutError extends Error {
  override name = 'AssignmentLockTimeoutError';
}

/**
 * The lock every writer of cluster membership takes (the pipeline's assignments, merges and
 * moves), so that reading cluster state, deciding and writing is one step across replicas.
 * The writes' scripts check its token, so a holder that stalled past expiry writes nothing.
 */
@Injectable()
export class AssignmentLock {
  private readonly lock: DistributedLock;

  constructor(@Inject(REDIS) redis: Redis, @Inject(KEYSPACE) keys: Keyspace) {
    this.lock = new DistributedLock(redis, keys.service.assignLock, ASSIGN_LOCK_TTL_MS);
  }

  async run<T>(work: (lease: LockLease) => Promise<T>): Promise<T> {
    const lease = await this.lock.acquire(ASSIGN_LOCK_TTL_MS);
    if (!lease) throw new AssignmentLockTimeoutError('timed out waiting for the assignment lock');
    try {
      return await work(lease);
    } finally {
      await this.lock.release(lease);
    }
  }
}
