import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { ClusterStateStore } from '../clusters/cluster-state.store';
import { Embedder, EMBEDDER } from '../pipeline/embed/embedder.port';
import { SUMMARIZER } from '../pipeline/summarize/summarizer.port';
import { REDIS } from '../redis/redis.module';
import { VECTOR_INDEX } from '../vector-index/vector-index.port';
import { EmbeddedVectorIndex } from './embedded/embedded-vector-index';
import { ExtractiveSummarizer } from './local/extractive-summarizer';
import { LocalEmbedder } from './local/local-embedder';

/**
 * The one place where adapters are chosen for the pipeline's ports (CONTRACT §6):
 * with no provider keys, the local embedder, the embedded index and extractive summaries.
 */
@Module({
  providers: [
    {
      provide: EMBEDDER,
      useFactory: async (): Promise<Embedder> => {
        const embedder = new LocalEmbedder();
        // Load the word vectors at start-up, not in the first batch's latency.
        await embedder.embed(['warm up']);
        return embedder;
      },
    },
    {
      provide: VECTOR_INDEX,
      inject: [REDIS, EMBEDDER],
      useFactory: (redis: Redis, embedder: Embedder) =>
        new EmbeddedVectorIndex(new ClusterStateStore(redis), embedder.model, embedder.dimensions),
    },
    { provide: SUMMARIZER, useFactory: () => new ExtractiveSummarizer() },
  ],
  exports: [EMBEDDER, VECTOR_INDEX, SUMMARIZER],
})
export class ProvidersModule {}
