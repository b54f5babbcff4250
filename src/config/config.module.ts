import { Global, Module } from '@nestjs/common';
import { Environment, loadEnvironment } from './environment';

/** Validates the environment once, at start-up, and shares the result. */
@Global()
@Module({
  providers: [{ provide: Environment, useFactory: () => loadEnvironment() }],
  exports: [Environment],
})
export class ConfigModule {}
