import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BatchStats } from '../pipeline/batch-stats';
import { ProviderCallOutcome, ProviderMetrics } from '../providers/provider-metrics';
import { BatchListener } from '../stream/stream-consumer';
import { StreamBacklog } from './stream-backlog';

/** Where a batch came from: the event stream or a job (API, schedule, CLI). */
export type BatchOrigin = 'stream' | 'job' | 'project';

/**
 * The service's Prometheus metrics, in a registry of its own (several applications may
 * share a process, e.g. in tests). Stream backlog gauges are read from Redis on scrape. No
 * series is labelled by project (CONTRACT §7): their number does not grow with the projects.
 */
export class ClusteringMetrics implements ProviderMetrics {
  readonly registry = new Registry();
  private readonly batchSize: Histogram<'origin'>;
  private readonly batchDuration: Histogram<'origin'>;
  private readonly itemsClustered: Counter<'origin'>;
  private readonly clustersCreated: Counter<'origin'>;
  private readonly clustersMerged: Counter;
  private readonly itemsMoved: Counter;
  private readonly deadLettered: Counter;
  private readonly embeddingFailures: Counter<'origin'>;
  private readonly providerCalls: Counter<'provider' | 'operation' | 'outcome'>;
  private readonly providerErrors: Counter<'provider' | 'operation' | 'outcome'>;
  private readonly providerDuration: Histogram<'provider' | 'operation'>;
  private readonly providerRetries: Counter<'provider' | 'operation'>;
  private readonly providerFallbacks: Counter<'provider' | 'operation' | 'reason'>;
  private readonly jobs: Counter<'trigger' | 'mode' | 'outcome'>;

  constructor(backlog: StreamBacklog) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const labels = { stream: backlog.stream, group: backlog.group };
    new Gauge({
      name: 'clustering_stream_lag',
      help: 'Entries of the feedback stream not yet delivered to the consumer group (-1: unknown)',
      labelNames: ['stream', 'group'],
      registers,
      async collect() {
        const read = await backlog.read();
        this.set(labels, read?.lag ?? -1);
      },
    });
    new Gauge({
      name: 'clustering_stream_pending',
      help: 'Entries delivered to the consumer group and not yet acknowledged',
      labelNames: ['stream', 'group'],
      registers,
      async collect() {
        const read = await backlog.read();
        this.set(labels, read?.pending ?? 0);
      },
    });
    this.batchSize = new Histogram({
      name: 'clustering_batch_size',
      help: 'Feedback ids per clustered batch',
      labelNames: ['origin'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'clustering_batch_duration_seconds',
      help: 'Time to cluster one batch, from read to persisted and summarised',
      labelNames: ['origin'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.itemsClustered = new Counter({
      name: 'clustering_items_clustered_total',
      help: 'Feedback items clustered',
      labelNames: ['origin'],
      registers,
    });
    this.clustersCreated = new Counter({
      name: 'clustering_clusters_created_total',
      help: 'Clusters created',
      labelNames: ['origin'],
      registers,
    });
    this.clustersMerged = new Counter({
      name: 'clustering_clusters_merged_total',
      help: 'Clusters absorbed into a near-duplicate by sweeps',
      registers,
    });
    this.itemsMoved = new Counter({
      name: 'clustering_items_moved_total',
      help: 'Items moved by sweeps to a cluster they fit better',
      registers,
    });
    this.deadLettered = new Counter({
      name: 'clustering_dead_lettered_total',
      help: 'Stream entries moved to the dead-letter stream',
      registers,
    });
    this.embeddingFailures = new Counter({
      name: 'clustering_embedding_failures_total',
      help: 'Items whose embedding failed (they stay unclustered and are retried)',
      labelNames: ['origin'],
      registers,
    });
    this.providerCalls = new Counter({
      name: 'clustering_provider_calls_total',
      help: 'Calls to external providers, retries included, by outcome',
      labelNames: ['provider', 'operation', 'outcome'],
      registers,
    });
    this.providerErrors = new Counter({
      name: 'clustering_provider_errors_total',
      help: 'Calls to external providers that did not succeed, by outcome',
      labelNames: ['provider', 'operation', 'outcome'],
      registers,
    });
    this.providerDuration = new Histogram({
      name: 'clustering_provider_call_duration_seconds',
      help: 'Duration of calls to external providers, retries included',
      labelNames: ['provider', 'operation'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.providerRetries = new Counter({
      name: 'clustering_provider_retries_total',
      help: 'Retries of calls to external providers',
      labelNames: ['provider', 'operation'],
      registers,
    });
    this.providerFallbacks = new Counter({
      name: 'clustering_provider_fallbacks_total',
      help: 'Provider answers replaced by a local substitute (extractive summary, exact search in Redis)',
      labelNames: ['provider', 'operation', 'reason'],
      registers,
    });
    this.jobs = new Counter({
      name: 'clustering_jobs_total',
      help: 'Clustering jobs finished, by trigger, mode and outcome',
      labelNames: ['trigger', 'mode', 'outcome'],
      registers,
    });
  }

  batch(origin: BatchOrigin, ids: number, durationMs: number, stats: BatchStats): void {
    this.batchSize.observe({ origin }, ids);
    this.batchDuration.observe({ origin }, durationMs / 1000);
    this.itemsClustered.inc({ origin }, stats.clustered_count);
    this.clustersCreated.inc({ origin }, stats.new_clusters);
    this.embeddingFailures.inc({ origin }, stats.failed_embeddings);
  }

  /** A stream consumer batch; retry batches have no entries, their size is the ids offered. */
  streamBatch(batch: Parameters<BatchListener>[0]): void {
    const { stats } = batch;
    const offered =
      stats.clustered_count +
      stats.skipped +
      stats.missing_feedback +
      stats.parked +
      stats.failed_embeddings;
    this.batch('stream', batch.entries || offered, batch.durationMs, stats);
    this.deadLettered.inc(batch.deadLettered);
  }

  merges(count: number): void {
    this.clustersMerged.inc(count);
  }

  moves(count: number): void {
    this.itemsMoved.inc(count);
  }

  job(trigger: string, mode: string, outcome: 'succeeded' | 'failed'): void {
    this.jobs.inc({ trigger, mode, outcome });
  }

  call(provider: string, operation: string, outcome: ProviderCallOutcome, seconds: number): void {
    this.providerCalls.inc({ provider, operation, outcome });
    if (outcome !== 'success') this.providerErrors.inc({ provider, operation, outcome });
    this.providerDuration.observe({ provider, operation }, seconds);
  }

  fallback(provider: string, operation: string, reason: string): void {
    this.providerFallbacks.inc({ provider, operation, reason });
  }

  retry(provider: string, operation: string): void {
    this.providerRetries.inc({ provider, operation });
  }
}
