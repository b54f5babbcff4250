import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { StreamBacklog } from '../metrics/stream-backlog';
import { withTimeout } from './timeout';

const READ_TIMEOUT_MS = 1000;

/**
 * Reports how far the consumer group is behind. Informational: a backlog is no reason to take
 * a replica out of service (it is how the backlog gets worked off), so this is always up
 * unless the figures cannot be read.
 */
@Injectable()
export class StreamLagHealthIndicator {
  constructor(
    private readonly backlog: StreamBacklog,
    private readonly health: HealthIndicatorService,
  ) {}

  async streamLag(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('stream_lag');
    try {
      const backlog = await withTimeout(this.backlog.read(), READ_TIMEOUT_MS);
      return indicator.up({
        stream: this.backlog.stream,
        group: this.backlog.group,
        lag: backlog?.lag ?? null,
        pending: backlog?.pending ?? null,
      });
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
