import Redis from 'ioredis';
import { compareStreamIds } from './stream-entry';

type GroupInfo = { name: string; pending: number; lastDeliveredId: string };
type ConsumerInfo = { name: string; pending: number; idleMs: number };

/** Consumers of the service's group idle this long with nothing pending are removed. */
export const IDLE_CONSUMER_MS = 60 * 60_000;
/** Another group whose consumers have all been idle this long no longer holds back trimming. */
export const STALE_GROUP_MS = 7 * 24 * 60 * 60_000;

/**
 * Trimming policy for `feedback:events`: an entry is removed only once every live consumer
 * group on the stream has read and acknowledged it. The cut is the smallest, over those
 * groups, of the group's oldest pending entry (or, with nothing pending, its last delivered
 * entry); it is applied with `XTRIM MINID ~`, which never removes an entry at or above the
 * cut. A stream without groups is never trimmed. A group of another reader whose consumers
 * have all been idle for 7 days is stale and no longer counts (else one abandoned reader
 * would stop trimming for ever); a group without any consumer still counts.
 * Each pass also removes the service group's consumers idle for an hour with nothing pending
 * (every process start adds a consumer name; entries of dead ones are claimed first).
 */
export class StreamTrimmer {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ownGroup?: string,
    private readonly limits = { idleConsumerMs: IDLE_CONSUMER_MS, staleGroupMs: STALE_GROUP_MS },
  ) {}

  /** The id below which every entry is acknowledged by every live group, or undefined. */
  async safeCut(): Promise<string | undefined> {
    const groups = await this.liveGroups();
    if (groups.length === 0) return undefined;
    let cut: string | undefined;
    for (const group of groups) {
      let groupCut = group.lastDeliveredId;
      if (group.pending > 0) {
        const [, oldestPending] = (await this.redis.xpending(this.key, group.name)) as [
          number,
          string | null,
        ];
        if (oldestPending) groupCut = oldestPending;
      }
      if (cut === undefined || compareStreamIds(groupCut, cut) < 0) cut = groupCut;
    }
    return cut === '0-0' ? undefined : cut;
  }

  /** Trims what every live group is done with; returns the number of entries removed. */
  async trim(): Promise<number> {
    await this.removeIdleConsumers();
    const cut = await this.safeCut();
    if (!cut) return 0;
    return Number(await this.redis.xtrim(this.key, 'MINID', '~', cut));
  }

  /** Removes the service group's consumers idle past the limit with nothing pending. */
  async removeIdleConsumers(): Promise<number> {
    if (!this.ownGroup) return 0;
    const idle = (await this.consumers(this.ownGroup)).filter(
      (c) => c.pending === 0 && c.idleMs > this.limits.idleConsumerMs,
    );
    for (const consumer of idle) {
      await this.redis.xgroup('DELCONSUMER', this.key, this.ownGroup, consumer.name);
    }
    return idle.length;
  }

  private async liveGroups(): Promise<GroupInfo[]> {
    const live: GroupInfo[] = [];
    for (const group of await this.groups()) {
      if (group.name === this.ownGroup) {
        live.push(group);
        continue;
      }
      const consumers = await this.consumers(group.name);
      const stale =
        consumers.length > 0 && consumers.every((c) => c.idleMs > this.limits.staleGroupMs);
      if (!stale) live.push(group);
    }
    return live;
  }

  private async consumers(group: string): Promise<ConsumerInfo[]> {
    const raw = (await this.redis.xinfo('CONSUMERS', this.key, group)) as unknown[][];
    return raw.map((flat) => {
      const info = fields(flat);
      return { name: String(info.name), pending: Number(info.pending), idleMs: Number(info.idle) };
    });
  }

  private async groups(): Promise<GroupInfo[]> {
    let raw: unknown[][];
    try {
      raw = (await this.redis.xinfo('GROUPS', this.key)) as unknown[][];
    } catch {
      return []; // no stream yet
    }
    return raw.map((flat) => {
      const info = fields(flat);
      return {
        name: String(info.name),
        pending: Number(info.pending),
        lastDeliveredId: String(info['last-delivered-id']),
      };
    });
  }
}

/** An XINFO reply's flat [field, value, ...] list as an object. */
function fields(flat: unknown[]): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
  return info;
}
