import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { CalibrationSource } from '../calibration/calibration-source';
import { CalibrationStore } from '../calibration/calibration.store';
import { AssignmentLock } from '../clusters/assignment-lock';
import { ClusterMembership } from '../clusters/cluster-membership';
import { clusteringParams } from '../config/clustering-params';
import { Environment } from '../config/environment';
import { FeedbackRepository } from '../feedback/feedback.repository';
import { ItemVectors } from '../item-vectors/item-vectors';
import { ProvidersModule } from '../providers/providers.module';
import { Keyspace } from '../redis/keyspace';
import { KEYSPACE, REDIS } from '../redis/redis.module';
import { VECTOR_INDEX, VectorIndex } from '../ports/vector-index.port';
import { AssignStage } from './assign/assign-stage';
import { ClusteringPipeline } from './clustering-pipeline';
import { EmbedRetrySchedule } from './embed/embed-retry-schedule';
import { Embedder, EMBEDDER } from '../ports/embedder.port';
import { BatchPersister } from './persist/batch-persister';
import { SummarizeStage } from './summarize/summarize-stage';
import { SUMMARIZER, Summarizer } from '../ports/summarizer.port';
import { ExtractiveSummarizer } from '../providers/local/extractive-summarizer';

@Module({
  imports: [ProvidersModule],
  providers: [
    {
      // The one assignment lock of the process: the pipeline's batches and the sweeps share it.
      provide: AssignmentLock,
      inject: [REDIS, KEYSPACE],
      useFactory: (r: Redis, keys: Keyspace) => new AssignmentLock(r, keys),
    },
    {
      provide: FeedbackRepository,
      inject: [REDIS, KEYSPACE],
      useFactory: (r: Redis, keys: Keyspace) => new FeedbackRepository(r, keys),
    },
    {
      provide: ItemVectors,
      inject: [REDIS, KEYSPACE, EMBEDDER, Environment],
      useFactory: (redis: Redis, keys: Keyspace, embedder: Embedder, env: Environment) =>
        new ItemVectors(redis, keys, embedder, env.ITEM_VECTORS, env.MAX_TEXT_CHARS),
    },
    {
      provide: EmbedRetrySchedule,
      inject: [REDIS, KEYSPACE],
      useFactory: (r: Redis, keys: Keyspace) => new EmbedRetrySchedule(r, keys),
    },
    {
      provide: SummarizeStage,
      inject: [REDIS, KEYSPACE, SUMMARIZER, ItemVectors, Environment],
      useFactory: (
        redis: Redis,
        keys: Keyspace,
        summarizer: Summarizer,
        vectors: ItemVectors,
        env: Environment,
      ) =>
        new SummarizeStage(redis, keys, summarizer, new ExtractiveSummarizer(), vectors, {
          growth: env.RESUMMARIZE_GROWTH,
          maxTextChars: env.MAX_TEXT_CHARS,
        }),
    },
    {
      provide: ClusteringPipeline,
      inject: [
        REDIS,
        KEYSPACE,
        Environment,
        EMBEDDER,
        VECTOR_INDEX,
        FeedbackRepository,
        EmbedRetrySchedule,
        SummarizeStage,
        ItemVectors,
        AssignmentLock,
      ],
      useFactory: (
        redis: Redis,
        keys: Keyspace,
        env: Environment,
        embedder: Embedder,
        index: VectorIndex,
        feedback: FeedbackRepository,
        retries: EmbedRetrySchedule,
        summarize: SummarizeStage,
        itemVectors: ItemVectors,
        lock: AssignmentLock,
      ) => {
        const assign = new AssignStage(
          lock,
          index,
          feedback,
          new ClusterMembership(redis, keys),
          new BatchPersister(redis, keys, itemVectors, {
            queueNew: summarize.queuesNewClusters,
            growth: summarize.growth,
          }),
          new CalibrationSource(new CalibrationStore(redis, keys), embedder),
          embedder.model,
          clusteringParams(env).assign,
        );
        return new ClusteringPipeline(
          feedback,
          embedder,
          retries,
          assign,
          index,
          summarize,
          itemVectors,
          {
            maxTextChars: env.MAX_TEXT_CHARS,
            storeItemVectors: env.UPSTASH_STORE_ITEM_VECTORS,
          },
        );
      },
    },
  ],
  exports: [
    AssignmentLock,
    ClusteringPipeline,
    ItemVectors,
    FeedbackRepository,
    EmbedRetrySchedule,
    SummarizeStage,
    ProvidersModule,
  ],
})
export class PipelineModule {}
