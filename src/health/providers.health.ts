import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Embedder, EMBEDDER } from '../pipeline/embed/embedder.port';
import { Summarizer, SUMMARIZER } from '../pipeline/summarize/summarizer.port';
import { ProviderReadiness } from '../providers/provider-metrics';
import { VECTOR_INDEX, VectorIndex } from '../vector-index/vector-index.port';

/** Longer than a healthy provider needs, shorter than a load balancer's probe timeout. */
const CHECK_TIMEOUT_MS = 3000;

/** An adapter that talks to a remote provider and can say whether it is usable now. */
interface RemoteAdapter {
  checkReady(): Promise<ProviderReadiness>;
}

function isRemote(adapter: object): adapter is RemoteAdapter {
  return typeof (adapter as Partial<RemoteAdapter>).checkReady === 'function';
}

/**
 * Readiness of the adapters chosen for the pipeline's ports (CONTRACT §5: "configured
 * providers usable"). Local adapters are always ready. A remote embedder or vector index
 * that cannot be used makes the replica unready; the Gemini summarizer only reports an
 * outage, since clusters then get extractive summaries and nothing waits for it, but a model
 * that does not exist (404) is a configuration error and reported unusable (down).
 */
@Injectable()
export class ProvidersHealthIndicator {
  constructor(
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    @Inject(SUMMARIZER) private readonly summarizer: Summarizer,
    private readonly health: HealthIndicatorService,
  ) {}

  async embedderReady(): Promise<HealthIndicatorResult> {
    return this.required('embedder', this.embedder.model, this.embedder);
  }

  async vectorIndexReady(): Promise<HealthIndicatorResult> {
    return this.required('vector_index', this.index.name, this.index);
  }

  async summarizerReady(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('summarizer');
    const adapter = this.summarizer.name;
    if (!isRemote(this.summarizer)) return indicator.up({ adapter });
    const { ok, detail, modelNotFound } = await checkWithin(this.summarizer, CHECK_TIMEOUT_MS);
    if (ok) return indicator.up({ adapter, detail });
    if (modelNotFound) return indicator.down({ adapter, detail, usable: false });
    return indicator.up({ adapter, detail, degraded: 'using extractive summaries' });
  }

  private async required(
    key: string,
    adapter: string,
    target: object,
  ): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    if (!isRemote(target)) return indicator.up({ adapter });
    const { ok, detail } = await checkWithin(target, CHECK_TIMEOUT_MS);
    return ok ? indicator.up({ adapter, detail }) : indicator.down({ adapter, detail });
  }
}

/** The adapter's own check, bounded so a hanging provider cannot hang the probe. */
async function checkWithin(adapter: RemoteAdapter, ms: number): Promise<ProviderReadiness> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      adapter.checkReady(),
      new Promise<ProviderReadiness>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${ms} ms` }), ms);
      }),
    ]);
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
