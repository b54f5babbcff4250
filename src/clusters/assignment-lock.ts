import Redis from 'ioredis';
import { DistributedLock, KeptLease } from '../redis/distributed-lock';
import { Keyspace } from '../redis/keyspace';

/** A holder that dies frees the lock within this time; a live one keeps it by heartbeat. */
const ASSIGN_LOCK_TTL_MS = 15_000;
/** How long a writer waits for the lock before giving up with a LockTimeoutError. */
const ASSIGN_LOCK_WAIT_MS = 15_000;

/**
 * The lock every writer of cluster membership takes (the pipeline's assignments, merges and
 * moves), so that reading cluster state, deciding and writing is one step across replicas.
 * The writes' scripts check its token, so a holder that stalled past expiry writes nothing;
 * a holder that is alive keeps it while its work runs (catching up on many changed clusters
 * under the lock may outlast the expiry).
 */
export class AssignmentLock {
  private readonly lock: DistributedLock;

  constructor(redis: Redis, keys: Keyspace) {
    this.lock = new DistributedLock(redis, keys.service.assignLock, ASSIGN_LOCK_TTL_MS);
  }

  /** Runs `work` under the lock; LockTimeoutError (nothing done) when it is not had in time. */
  run<T>(work: (lease: KeptLease) => Promise<T>): Promise<T> {
    return this.lock.run(work, { waitMs: ASSIGN_LOCK_WAIT_MS });
  }
}
