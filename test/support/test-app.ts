import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../../src/app.module';
import { configureHttp } from '../../src/http/configure-http';
import { Embedder, EMBEDDER } from '../../src/ports/embedder.port';
import { TEST_REDIS_URL } from './test-redis';
import { TopicEmbedder } from './topic-embedder';

export const REDIS_HOST_URL = TEST_REDIS_URL;

/**
 * Starts the real application (HTTP server on an ephemeral port, real Redis in database `db`)
 * with `env` on top of quiet test defaults (no stream consumer, no sweeps, a stand-in topic
 * embedder, or `embedder`, unless `configuredProviders`). The environment is read while the application is
 * created, so several replicas with different settings can run in one test.
 */
export async function startApp(
  db: number,
  env: Record<string, string> = {},
  options: { configuredProviders?: boolean; embedder?: Embedder } = {},
): Promise<INestApplication> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    NODE_ENV: 'test',
    REDIS_URL: `${REDIS_HOST_URL}/${db}`,
    LOG_LEVEL: 'silent',
    CONSUMER_ENABLED: 'false',
    SWEEP_ENABLED: 'false',
    STREAM_TRIM_INTERVAL_MS: '0',
    ...env,
  });
  try {
    const testing = Test.createTestingModule({ imports: [AppModule.forRoot()] });
    // The local embedder loads a word-vector table (seconds); most HTTP tests need only a topic.
    if (!options.configuredProviders)
      testing.overrideProvider(EMBEDDER).useValue(options.embedder ?? new TopicEmbedder());
    const moduleRef = await testing.compile();
    const app = moduleRef.createNestApplication({ bufferLogs: true });
    app.useLogger(app.get(Logger));
    configureHttp(app);
    await app.listen(0, '127.0.0.1');
    return app;
  } finally {
    process.env = saved;
  }
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
