import Redis from 'ioredis';

/** How far the consumer group is behind on its stream, from XINFO GROUPS. */
export interface Backlog {
  /** Entries not yet delivered to the group; null when Redis cannot tell (after deletions). */
  lag: number | null;
  /** Entries delivered but not acknowledged. */
  pending: number;
}

/** Reads one consumer group's backlog on one stream. */
export class StreamBacklog {
  constructor(
    private readonly redis: Redis,
    readonly stream: string,
    readonly group: string,
  ) {}

  /** The group's backlog, or undefined when the stream or the group does not exist. */
  async read(): Promise<Backlog | undefined> {
    let groups: unknown[][];
    try {
      groups = (await this.redis.xinfo('GROUPS', this.stream)) as unknown[][];
    } catch (error) {
      if (error instanceof Error && error.message.includes('no such key')) return undefined;
      throw error;
    }
    for (const flat of groups) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
      if (info.get('name') !== this.group) continue;
      const lag = info.get('lag');
      return {
        lag: lag === null || lag === undefined ? null : Number(lag),
        pending: Number(info.get('pending') ?? 0),
      };
    }
    return undefined;
  }
}
