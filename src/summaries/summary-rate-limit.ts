import Redis from 'ioredis';
import { SharedKeys } from '../redis/keyspace';
import { runScript } from '../redis/lua-scripts';

/**
 * The deployment-wide limit on model summary calls (`GEMINI_SUMMARIES_PER_MINUTE`): one token
 * bucket in Redis (`take-summary-token.lua`) shared by every replica, refilled continuously,
 * with bursts of up to ten seconds' worth.
 */
export class SummaryRateLimit {
  private readonly capacity: number;

  constructor(
    private readonly redis: Redis,
    private readonly perMinute: number,
  ) {
    this.capacity = Math.max(1, Math.floor(perMinute / 6));
  }

  /** Takes a token: 0 when taken, otherwise the milliseconds until one will be there. */
  async take(): Promise<number> {
    return Number(
      await runScript(
        this.redis,
        'takeSummaryToken',
        [SharedKeys.summaryTokens],
        [this.perMinute, this.capacity],
      ),
    );
  }
}
