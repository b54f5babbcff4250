import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ConfigModule } from './config/config.module';
import { Environment, loadEnvironment } from './config/environment';
import { KeyspaceModule } from './projects/keyspace.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';

/** What every mode of the process needs: configuration, JSON logs, Redis, metrics. */
@Module({
  imports: [
    ConfigModule,
    LoggerModule.forRootAsync({
      inject: [Environment],
      useFactory: (env: Environment) => ({
        pinoHttp: {
          level: env.LOG_LEVEL,
          autoLogging: false,
          redact: ['req.headers.authorization'],
        },
      }),
    }),
    RedisModule,
    MetricsModule,
    LifecycleModule,
  ],
})
export class CoreModule {
  /** With the keyspace of the configured KEY_LAYOUT (read when the application is created). */
  static forRoot(): DynamicModule {
    return {
      module: CoreModule,
      imports: [KeyspaceModule.forLayout(loadEnvironment().KEY_LAYOUT)],
    };
  }
}
