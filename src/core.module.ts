import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { ConfigModule } from './config/config.module';
import { Environment } from './config/environment';
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
export class CoreModule {}
