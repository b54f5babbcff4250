import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { Environment, loadEnvironment } from '../../src/config/environment';
import { redisUrl } from './test-redis';

/** A whole service instance (HTTP server, stream consumer) on a test database, in process. */
export async function startService(
  db: number,
  overrides: Record<string, string> = {},
): Promise<INestApplication> {
  const env = loadEnvironment({
    REDIS_URL: redisUrl(db),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    CLAIM_IDLE_MS: '1000',
    STREAM_TRIM_INTERVAL_MS: '0',
    SWEEP_ENABLED: 'false',
    ...overrides,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(Environment)
    .useValue(env)
    .compile();
  const app = moduleRef.createNestApplication({
    logger: process.env.TEST_LOG_LEVEL ? undefined : false,
  });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  return app;
}
