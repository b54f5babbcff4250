import { Logger, Module } from '@nestjs/common';
import Redis from 'ioredis';
import { ClusterStateStore } from '../clusters/cluster-state.store';
import { Environment, geminiApiKey } from '../config/environment';
import { finishesWithin } from '../lifecycle/shutdown-deadline';
import { ClusteringMetrics } from '../metrics/clustering-metrics';
import { Embedder, EMBEDDER } from '../ports/embedder.port';
import { Summarizer, SUMMARIZER } from '../ports/summarizer.port';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { Keyspace } from '../redis/keyspace';
import { VECTOR_INDEX, VectorIndex } from '../ports/vector-index.port';
import { EmbeddedVectorIndex } from './embedded/embedded-vector-index';
import { GeminiEmbedder } from './gemini/gemini-embedder';
import { GeminiSummarizer } from './gemini/gemini-summarizer';
import { ExtractiveSummarizer } from './local/extractive-summarizer';
import { LocalEmbedder } from './local/local-embedder';
import { ProviderMetrics } from './provider-metrics';
import { UpstashVectorIndex } from './upstash/upstash-vector-index';

const logger = new Logger('ProvidersModule');

/** How long start-up waits for Upstash before going on unready (searching Redis meanwhile). */
const UPSTASH_START_UP_WAIT_MS = 5_000;

/** Gemini with a key (CONTRACT §6), otherwise the offline local embedder. */
export function createEmbedder(env: Environment, metrics?: ProviderMetrics): Embedder {
  const apiKey = geminiApiKey(env);
  if (!apiKey) return new LocalEmbedder();
  return new GeminiEmbedder({
    apiKey,
    baseUrl: env.GEMINI_BASE_URL,
    model: env.GEMINI_EMBED_MODEL,
    dimensions: env.EMBEDDING_DIMENSIONS,
    concurrency: env.GEMINI_EMBED_CONCURRENCY,
    timeoutMs: env.GEMINI_TIMEOUT_MS,
    maxRetries: env.GEMINI_MAX_RETRIES,
    metrics,
  });
}

/** Where a provider is, for logs: the host only, never a key or a path that may hold one. */
function hostOf(url: string): string {
  return new URL(url).host;
}

/**
 * The one place where adapters are chosen for the pipeline's ports (CONTRACT §6): Gemini
 * with a Gemini key, Upstash Vector with an Upstash URL and token; without them the local
 * embedder, the embedded index and extractive summaries.
 */
@Module({
  providers: [
    {
      provide: EMBEDDER,
      inject: [Environment, ClusteringMetrics],
      useFactory: async (env: Environment, metrics: ClusteringMetrics): Promise<Embedder> => {
        const embedder = createEmbedder(env, metrics);
        if (embedder instanceof LocalEmbedder) {
          // Load the word vectors at start-up, not in the first batch's latency.
          await embedder.embed(['warm up']);
        }
        const where =
          embedder instanceof GeminiEmbedder
            ? `Gemini at ${env.GEMINI_BASE_URL ? hostOf(env.GEMINI_BASE_URL) : 'Google'}`
            : 'local, offline';
        logger.log(`embedder: ${embedder.model} (${where})`);
        return embedder;
      },
    },
    {
      provide: VECTOR_INDEX,
      inject: [REDIS, KEYSPACE, EMBEDDER, Environment, ClusteringMetrics],
      useFactory: async (
        redis: Redis,
        keys: Keyspace,
        embedder: Embedder,
        env: Environment,
        metrics: ClusteringMetrics,
      ): Promise<VectorIndex> => {
        const store = new ClusterStateStore(redis, keys);
        const url = env.UPSTASH_VECTOR_REST_URL;
        const token = env.UPSTASH_VECTOR_REST_TOKEN;
        if (!url || !token) {
          logger.log(`vector index: embedded (in process, mirrored from Redis)`);
          return new EmbeddedVectorIndex(store, embedder.model, embedder.dimensions);
        }
        const index = new UpstashVectorIndex(store, redis, keys, {
          url,
          token,
          model: embedder.model,
          dimensions: embedder.dimensions,
          timeoutMs: env.UPSTASH_TIMEOUT_MS,
          metrics,
        });
        // A mismatched index would reject every query: refuse to start, saying what to change.
        // An unreachable one is waited for (not ready meanwhile; Redis answers the searches).
        const verified = index.verifyWhenReachable();
        if (!(await finishesWithin(verified, UPSTASH_START_UP_WAIT_MS))) {
          verified.catch((error: unknown) => {
            // Found only after start-up: stop, as a mismatch at start-up does.
            logger.error(error instanceof Error ? error.message : String(error));
            process.exit(1);
          });
        }
        logger.log(
          `vector index: Upstash Vector at ${hostOf(url)} (${embedder.dimensions} dimensions, cosine)`,
        );
        return index;
      },
    },
    {
      provide: SUMMARIZER,
      inject: [Environment, ClusteringMetrics],
      useFactory: (env: Environment, metrics: ClusteringMetrics): Summarizer => {
        const extractive = new ExtractiveSummarizer();
        const apiKey = geminiApiKey(env);
        if (!apiKey) {
          logger.log('summarizer: extractive (local)');
          return extractive;
        }
        const summarizer = new GeminiSummarizer({
          apiKey,
          baseUrl: env.GEMINI_BASE_URL,
          fallback: extractive,
          model: env.GEMINI_SUMMARY_MODEL,
          timeoutMs: env.GEMINI_TIMEOUT_MS,
          maxRetries: env.GEMINI_MAX_RETRIES,
          metrics,
        });
        logger.log(
          `summarizer: ${summarizer.name} (falls back to extractive), ` +
            `at most ${env.GEMINI_SUMMARIES_PER_MINUTE} calls per minute across the deployment`,
        );
        return summarizer;
      },
    },
  ],
  exports: [EMBEDDER, VECTOR_INDEX, SUMMARIZER],
})
export class ProvidersModule {}
