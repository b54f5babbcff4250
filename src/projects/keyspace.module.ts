import { DynamicModule, Global, Module, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { Keyspace, KeyLayout } from '../redis/keyspace';
import { KEYSPACE } from '../redis/redis.module';
import { ProjectContexts, ProjectRequest } from './project-contexts';
import { ProjectRegistry } from './project-registry';

/**
 * Provides `KEYSPACE` for the configured layout. Flat: one keyspace, and every service is a
 * singleton. Project: a keyspace per project context (see ProjectContexts), so every service
 * that names keys exists once per project.
 */
@Global()
@Module({})
export class KeyspaceModule {
  static forLayout(layout: KeyLayout): DynamicModule {
    const keyspace =
      layout === 'flat'
        ? { provide: KEYSPACE, useValue: Keyspace.flat() }
        : {
            provide: KEYSPACE,
            scope: Scope.REQUEST,
            inject: [REQUEST],
            useFactory: (request: ProjectRequest) => Keyspace.project(request.projectId),
          };
    return {
      module: KeyspaceModule,
      providers: [keyspace, ProjectContexts, ProjectRegistry],
      exports: [KEYSPACE, ProjectContexts, ProjectRegistry],
    };
  }
}
