import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import {
  isProjectId,
  PROJECT_UNCLUSTERED_PATTERN,
  projectOfUnclusteredKey,
  SharedKeys,
} from '../redis/keyspace';
import { REDIS } from '../redis/redis.module';

/** Keys SCAN examines per discovery step: bounded work, however large the keyspace. */
const SCAN_COUNT = 1000;

/**
 * The projects of the project layout (CONTRACT §7), discovered incrementally: from the
 * `project_id` of events, and by a resumable `SCAN MATCH feedback:unclustered:*` of which each
 * call does one bounded step. Known projects are kept in `clustering:projects`, so a restart
 * does not wait for the scan to find them again.
 */
@Injectable()
export class ProjectRegistry {
  private cursor = '0';

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async list(): Promise<string[]> {
    return (await this.redis.smembers(SharedKeys.projects)).filter(isProjectId).sort();
  }

  /** Records projects named elsewhere (an event's `project_id`); returns the new ones. */
  async note(projectIds: readonly string[]): Promise<string[]> {
    const valid = [...new Set(projectIds.filter(isProjectId))];
    if (valid.length === 0) return [];
    const known = await this.redis.smismember(SharedKeys.projects, ...valid);
    const fresh = valid.filter((_, i) => known[i] === 0);
    if (fresh.length > 0) await this.redis.sadd(SharedKeys.projects, ...fresh);
    return fresh;
  }

  /** One step of the scan for projects' unclustered sets; returns the projects it found. */
  async discoverStep(): Promise<string[]> {
    const [next, keys] = await this.redis.scan(
      this.cursor,
      'MATCH',
      PROJECT_UNCLUSTERED_PATTERN,
      'COUNT',
      SCAN_COUNT,
    );
    this.cursor = next;
    const found = keys.flatMap((key) => {
      const projectId = projectOfUnclusteredKey(key);
      return projectId ? [projectId] : [];
    });
    return this.note(found);
  }

  /** Whether the scan has been through the whole keyspace since it last started. */
  get scanWrapped(): boolean {
    return this.cursor === '0';
  }
}
