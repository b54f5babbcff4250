import { BadRequestException, Injectable, Type } from '@nestjs/common';
import { ContextId, ContextIdFactory, ModuleRef } from '@nestjs/core';
import { Environment } from '../config/environment';
import { isProjectId, KeyLayout } from '../redis/keyspace';

/** What the per-project `KEYSPACE` provider reads from its context (see RedisModule). */
export interface ProjectRequest {
  projectId: string;
}

/**
 * Hands out the services of one project. In the flat layout there is one project and every
 * service is a singleton. In the project layout (CONTRACT §7) `KEYSPACE` is a per-context
 * provider, so every service that names keys (the pipeline, its lock and index, sweeps, job
 * records, the summary queue, readers) exists once per project: Nest builds each project's
 * graph on first use, in a context of its own, and keeps it.
 */
@Injectable()
export class ProjectContexts {
  readonly layout: KeyLayout;
  private readonly contexts = new Map<string, ContextId>();

  constructor(
    private readonly moduleRef: ModuleRef,
    env: Environment,
  ) {
    this.layout = env.KEY_LAYOUT;
  }

  /**
   * The instance of `token` that serves `projectId` (undefined in the flat layout, required in
   * the project one).
   */
  async get<T>(token: Type<T> | symbol, projectId: string | undefined): Promise<T> {
    if (this.layout === 'flat') return this.moduleRef.get<T>(token, { strict: false });
    return this.moduleRef.resolve<T>(token, this.contextOf(requireProjectId(projectId)), {
      strict: false,
    });
  }

  private contextOf(projectId: string): ContextId {
    let context = this.contexts.get(projectId);
    if (!context) {
      context = ContextIdFactory.create();
      const request: ProjectRequest = { projectId };
      this.moduleRef.registerRequestByContextId(request, context);
      this.contexts.set(projectId, context);
    }
    return context;
  }
}

/** `projectId`, checked; a 400 naming `project_id` when it is missing or malformed. */
export function requireProjectId(projectId: string | undefined): string {
  if (projectId === undefined || projectId === '') {
    throw new BadRequestException('project_id is required (KEY_LAYOUT=project)');
  }
  if (!isProjectId(projectId)) {
    throw new BadRequestException('project_id must be a UUID or CUID');
  }
  return projectId;
}
