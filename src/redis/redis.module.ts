import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { ConfigModule } from '../config/config.module';
import { Environment } from '../config/environment';

/** Injection token of the shared command connection. Blocking reads use their own (see `RedisConnections`). */
export const REDIS = Symbol('Redis');
/**
 * Injection token of the `Keyspace` a service names its keys in (KEY_LAYOUT): provided by
 * `KeyspaceModule`, one per project in the project layout.
 */
export const KEYSPACE = Symbol('Keyspace');

/** Makes connections to the configured Redis and closes every one on shutdown. */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly open = new Set<Redis>();

  constructor(@Inject(Environment) private readonly env: Environment) {}

  /** A new connection; `blocking` ones never time out a command (XREADGROUP BLOCK). */
  create(name: string): Redis {
    const client = new Redis(this.env.REDIS_URL, {
      connectionName: `clustering:${name}`,
      maxRetriesPerRequest: null,
      enableAutoPipelining: false,
    });
    client.on('error', () => {
      // ioredis reconnects by itself; readiness reports the outage, so no log storm here.
    });
    this.open.add(client);
    return client;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.open].map((c) => c.quit().catch(() => c.disconnect())));
    this.open.clear();
  }
}

@Global()
@Module({
  imports: [ConfigModule],
  providers: [
    RedisConnections,
    {
      provide: REDIS,
      inject: [RedisConnections],
      useFactory: (connections: RedisConnections) => connections.create('commands'),
    },
  ],
  exports: [REDIS, RedisConnections],
})
export class RedisModule {}
