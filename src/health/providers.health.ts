import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Embedder, EMBEDDER } from '../ports/embedder.port';
import { Summarizer, SUMMARIZER } from '../ports/summarizer.port';
import { ProviderReadiness, ReadinessCheck } from '../ports/provider-readiness';
import { VECTOR_INDEX, VectorIndex } from '../ports/vector-index.port';
import { ProjectContexts } from '../projects/project-contexts';
import { ProjectRegistry } from '../projects/project-registry';
import { withTimeout } from './timeout';

/** Longer than a healthy provider needs, shorter than a load balancer's probe timeout. */
const CHECK_TIMEOUT_MS = 3000;

/**
 * Readiness of the adapters chosen for the pipeline's ports (CONTRACT §5: "configured
 * providers usable"). Local adapters are always ready. A remote embedder or vector index
 * that cannot be used makes the replica unready; the Gemini summarizer only reports an
 * outage, since clusters then get extractive summaries and nothing waits for it, but a model
 * that does not exist (404) is a configuration error and reported unusable (down).
 *
 * The vector index is a project's (CONTRACT §7): a remote one is the same service whichever
 * project asks, so any known project's instance tells; with no project yet, none is in use.
 */
@Injectable()
export class ProvidersHealthIndicator {
  constructor(
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    private readonly contexts: ProjectContexts,
    private readonly registry: ProjectRegistry,
    @Inject(SUMMARIZER) private readonly summarizer: Summarizer,
    private readonly health: HealthIndicatorService,
  ) {}

  async embedderReady(): Promise<HealthIndicatorResult> {
    return this.required('embedder', this.embedder.model, this.embedder);
  }

  async vectorIndexReady(): Promise<HealthIndicatorResult> {
    let index: VectorIndex | undefined;
    try {
      // Bounded: a project's first remote index waits for its provider while it is created.
      index = await withTimeout(this.indexInUse(), CHECK_TIMEOUT_MS);
    } catch (error) {
      return this.health.check('vector_index').down({ detail: messageOf(error) });
    }
    if (!index) return this.health.check('vector_index').up({ detail: 'no project yet' });
    return this.required('vector_index', index.name, index);
  }

  /** The flat layout's index, or the first known project's (undefined while there is none). */
  private async indexInUse(): Promise<VectorIndex | undefined> {
    if (this.contexts.layout === 'flat') return this.contexts.get(VECTOR_INDEX, undefined);
    const [project] = await this.registry.list();
    return project === undefined ? undefined : this.contexts.get(VECTOR_INDEX, project);
  }

  async summarizerReady(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('summarizer');
    const adapter = this.summarizer.name;
    const check = this.summarizer.checkReady?.bind(this.summarizer);
    if (!check) return indicator.up({ adapter });
    const { ok, detail, modelNotFound } = await checkWithin(check, CHECK_TIMEOUT_MS);
    if (ok) return indicator.up({ adapter, detail });
    if (modelNotFound) return indicator.down({ adapter, detail, usable: false });
    return indicator.up({ adapter, detail, degraded: 'using extractive summaries' });
  }

  private async required(
    key: string,
    adapter: string,
    target: ReadinessCheck,
  ): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    const check = target.checkReady?.bind(target);
    if (!check) return indicator.up({ adapter });
    const { ok, detail } = await checkWithin(check, CHECK_TIMEOUT_MS);
    return ok ? indicator.up({ adapter, detail }) : indicator.down({ adapter, detail });
  }
}

/** The adapter's own check, bounded so a hanging provider cannot hang the probe. */
async function checkWithin(
  check: () => Promise<ProviderReadiness>,
  ms: number,
): Promise<ProviderReadiness> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check(),
      new Promise<ProviderReadiness>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${ms} ms` }), ms);
      }),
    ]);
  } catch (error) {
    return { ok: false, detail: messageOf(error) };
  } finally {
    clearTimeout(timer);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
