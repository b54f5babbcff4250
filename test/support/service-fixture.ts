import { Keyspace } from '../../src/redis/keyspace';
import { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { startApp } from './test-app';
import { closeTestRedis, openTestRedis } from './test-redis';

/** Starts one application on database `db` with `env` on top of the starter's defaults. */
export type AppStarter = (db: number, env?: Record<string, string>) => Promise<INestApplication>;

export interface ServiceFixture {
  /** This test's connection to database `db` (flushed before and after every test). */
  readonly redis: Redis;
  /** A producer writing through `redis`. */
  readonly writer: FeedbackWriter;
  /** Starts a replica on `db`; it is closed after the test unless stopped earlier. */
  start(env?: Record<string, string>): Promise<INestApplication>;
  /** Closes a replica started by `start` before the test ends. */
  stop(app: INestApplication): Promise<void>;
}

/**
 * Registers the beforeEach/afterEach hooks shared by specs that run whole replicas against
 * their own database `db`: a fresh Redis connection and writer per test, and after it every
 * replica closed, the database flushed and the connection quit.
 */
export function useServiceFixture(db: number, starter: AppStarter = startApp): ServiceFixture {
  let redis: Redis | undefined;
  let writer: FeedbackWriter | undefined;
  const apps: INestApplication[] = [];

  beforeEach(async () => {
    redis = await openTestRedis(db);
    writer = new FeedbackWriter(redis, Keyspace.flat());
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    if (redis) await closeTestRedis(redis);
    redis = undefined;
    writer = undefined;
  });

  return {
    get redis(): Redis {
      if (!redis) throw new Error('the service fixture is only usable inside a test');
      return redis;
    },
    get writer(): FeedbackWriter {
      if (!writer) throw new Error('the service fixture is only usable inside a test');
      return writer;
    },
    async start(env: Record<string, string> = {}): Promise<INestApplication> {
      const app = await starter(db, env);
      apps.push(app);
      return app;
    },
    async stop(app: INestApplication): Promise<void> {
      apps.splice(apps.indexOf(app), 1);
      await app.close();
    },
  };
}
