import Redis from 'ioredis';
import { compareStreamIds } from './stream-entry';

type GroupInfo = { name: string; pending: number; lastDeliveredId: string };

/**
 * Trimming policy for `feedback:events`: an entry is removed only once every consumer group
 * on the stream has read and acknowledged it. The cut is the smallest, over all groups, of
 * the group's oldest pending entry (or, with nothing pending, its last delivered entry); it
 * is applied with `XTRIM MINID ~`, which never removes an entry at or above the cut. A stream
 * without groups is never trimmed.
 */
export class StreamTrimmer {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  /** The id below which every entry is acknowledged by every group, or undefined. */
  async safeCut(): Promise<string | undefined> {
    const groups = await this.groups();
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

  /** Trims what every group is done with; returns the number of entries removed. */
  async trim(): Promise<number> {
    const cut = await this.safeCut();
    if (!cut) return 0;
    return Number(await this.redis.xtrim(this.key, 'MINID', '~', cut));
  }

  private async groups(): Promise<GroupInfo[]> {
    let raw: unknown[][];
    try {
      raw = (await this.redis.xinfo('GROUPS', this.key)) as unknown[][];
    } catch {
      return []; // no stream yet
    }
    return raw.map((flat) => {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
      return {
        name: String(info.name),
        pending: Number(info.pending),
        lastDeliveredId: String(info['last-delivered-id']),
      };
    });
  }
}
