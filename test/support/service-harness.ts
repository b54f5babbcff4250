import { INestApplication } from '@nestjs/common';
import { startApp } from './test-app';

/**
 * A whole service instance as it runs in production (stream consumer on, the adapters the
 * configuration chooses) on a test database, in process.
 */
export async function startService(
  db: number,
  overrides: Record<string, string> = {},
): Promise<INestApplication> {
  return startApp(
    db,
    { CONSUMER_ENABLED: 'true', CLAIM_IDLE_MS: '1000', ...overrides },
    { configuredProviders: true },
  );
}
