import { ProjectContexts } from '../projects/project-contexts';
import { ProjectRegistry } from '../projects/project-registry';

/**
 * The projects a deployment-wide task (scheduled sweeps, looking after silent jobs) goes
 * through, as ProjectContexts takes them: the flat layout's one implicit project
 * (`undefined`), or every known project of the project layout.
 */
export async function servedProjects(
  contexts: ProjectContexts,
  registry: ProjectRegistry,
): Promise<Array<string | undefined>> {
  return contexts.layout === 'flat' ? [undefined] : registry.list();
}
