import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import Redis from 'ioredis';
import { Environment } from '../config/environment';
import { ShutdownDeadline } from '../lifecycle/shutdown-deadline';
import { ClusteringMetrics } from '../metrics/clustering-metrics';
import { ClusteringPipeline } from '../pipeline/clustering-pipeline';
import { EmbedRetrySchedule } from '../pipeline/embed/embed-retry-schedule';
import { SharedKeys } from '../redis/keyspace';
import { REDIS, RedisConnections } from '../redis/redis.module';
import { uniqueConsumerName } from './consumer-name';
import { DeadLetters } from './dead-letters';
import { EventStream } from './event-stream';
import { ItemFailureCounts } from './item-failures';
import { StreamConsumer } from './stream-consumer';
import { StreamTrimmer } from './stream-trimmer';

/** Runs this process's stream consumer and trimmer for the application's lifetime. */
@Injectable()
export class StreamConsumerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StreamConsumerService.name);
  readonly stream: EventStream;
  private readonly consumer: StreamConsumer;
  private readonly trimmer: StreamTrimmer;
  private trimTimer?: NodeJS.Timeout;

  constructor(
    @Inject(REDIS) redis: Redis,
    connections: RedisConnections,
    private readonly env: Environment,
    pipeline: ClusteringPipeline,
    retries: EmbedRetrySchedule,
    metrics: ClusteringMetrics,
    private readonly deadline: ShutdownDeadline,
  ) {
    this.stream = new EventStream(
      redis,
      connections.create('stream-reader'),
      SharedKeys.events,
      env.CONSUMER_GROUP,
      env.CONSUMER_NAME ?? uniqueConsumerName(),
    );
    this.consumer = new StreamConsumer(
      this.stream,
      pipeline,
      new DeadLetters(redis),
      retries,
      new ItemFailureCounts(redis),
      {
        batchMaxItems: env.BATCH_MAX_ITEMS,
        batchMaxWaitMs: env.BATCH_MAX_WAIT_MS,
        claimIdleMs: env.CLAIM_IDLE_MS,
        maxDeliveries: env.MAX_DELIVERIES,
      },
      (batch) => metrics.streamBatch(batch),
    );
    this.trimmer = new StreamTrimmer(redis, this.stream.key, this.stream.group);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.stream.ensureGroup();
    if (!this.env.CONSUMER_ENABLED) return;
    await this.consumer.start();
    this.logger.log(`consuming ${this.stream.key} as ${this.stream.group}/${this.consumer.name}`);
    if (this.env.STREAM_TRIM_INTERVAL_MS > 0) {
      this.trimTimer = setInterval(() => {
        this.trimmer
          .trim()
          .catch((error: unknown) => this.logger.warn(`trim failed: ${String(error)}`));
      }, this.env.STREAM_TRIM_INTERVAL_MS);
      this.trimTimer.unref();
    }
  }

  /** Before connections close: the batch in hand still needs Redis to finish. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.trimTimer);
    await this.consumer.stop(this.deadline.remainingMs());
  }
}
