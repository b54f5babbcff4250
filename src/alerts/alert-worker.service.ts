import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Environment } from '../config/environment';
import { ProjectContexts } from '../projects/project-contexts';
import { ProjectRegistry } from '../projects/project-registry';
import { AlertDelivery, AlertOutbox } from './alert-outbox';
import { webhookDelivery } from './webhook-delivery';

/**
 * Detects and sends alerts in the background when WEBHOOK_URL is set: every ALERT_POLL_MS, for
 * each project (the one of the flat layout, or each known one), it queues the alerts of
 * changed clusters and sends the due ones. Clustering never waits for it.
 */
@Injectable()
export class AlertWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(AlertWorkerService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly contexts: ProjectContexts,
    private readonly registry: ProjectRegistry,
    private readonly env: Environment,
  ) {}

  onApplicationBootstrap(): void {
    const { WEBHOOK_URL, WEBHOOK_SECRET } = this.env;
    if (!WEBHOOK_URL || !WEBHOOK_SECRET) return;
    const deliver = webhookDelivery(WEBHOOK_URL, WEBHOOK_SECRET);
    const tick = () => {
      this.running = this.step(deliver).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.env.ALERT_POLL_MS);
      });
    };
    this.timer = setTimeout(tick, 0);
    this.logger.log(`alerts go to ${new URL(WEBHOOK_URL).origin}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async step(deliver: AlertDelivery): Promise<void> {
    const projects = this.contexts.layout === 'flat' ? [undefined] : await this.registry.list();
    for (const projectId of projects) {
      if (this.stopped) return;
      try {
        const outbox = await this.contexts.get(AlertOutbox, projectId);
        await outbox.detect();
        await outbox.sendDue(deliver);
      } catch (error) {
        // The next step tries again; one project's trouble does not stop another's alerts.
        this.logger.warn(`alerts of project ${projectId ?? '(flat)'}: ${String(error)}`);
      }
    }
  }
}
