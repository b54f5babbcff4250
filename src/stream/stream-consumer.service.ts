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
import { ProjectContexts } from '../projects/project-contexts';
import { ProjectRegistry } from '../projects/project-registry';
import { ProjectWorker } from '../projects/project-worker';
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
  /** Flat layout: the event consumer; project layout: the per-project loop (CONTRACT §7). */
  private runner?: { stop(withinMs: number): Promise<unknown> };
  private readonly trimmer: StreamTrimmer;
  private trimTimer?: NodeJS.Timeout;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    connections: RedisConnections,
    private readonly env: Environment,
    private readonly contexts: ProjectContexts,
    private readonly registry: ProjectRegistry,
    private readonly metrics: ClusteringMetrics,
    private readonly deadline: ShutdownDeadline,
  ) {
    this.stream = new EventStream(
      redis,
      connections.create('stream-reader'),
      SharedKeys.events,
      env.CONSUMER_GROUP,
      env.CONSUMER_NAME ?? uniqueConsumerName(),
    );
    this.trimmer = new StreamTrimmer(redis, this.stream.key, this.stream.group);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.stream.ensureGroup();
    if (!this.env.CONSUMER_ENABLED) return;
    this.runner =
      this.contexts.layout === 'flat' ? await this.startConsumer() : await this.startProjects();
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
    await this.runner?.stop(this.deadline.remainingMs());
  }

  /** Flat layout: events announce the items to cluster (CONTRACT §1). */
  private async startConsumer(): Promise<StreamConsumer> {
    const env = this.env;
    const consumer = new StreamConsumer(
      this.stream,
      await this.contexts.get(ClusteringPipeline, undefined),
      new DeadLetters(this.redis),
      await this.contexts.get(EmbedRetrySchedule, undefined),
      new ItemFailureCounts(this.redis),
      {
        batchMaxItems: env.BATCH_MAX_ITEMS,
        batchMaxWaitMs: env.BATCH_MAX_WAIT_MS,
        claimIdleMs: env.CLAIM_IDLE_MS,
        maxDeliveries: env.MAX_DELIVERIES,
      },
      (batch) => this.metrics.streamBatch(batch),
    );
    await consumer.start();
    this.logger.log(`consuming ${this.stream.key} as ${this.stream.group}/${consumer.name}`);
    return consumer;
  }

  /** Project layout: each project's unclustered set holds its work (CONTRACT §7). */
  private async startProjects(): Promise<ProjectWorker> {
    const worker = new ProjectWorker(
      this.redis,
      this.contexts,
      this.registry,
      this.stream,
      new DeadLetters(this.redis),
      this.metrics,
      {
        batchMaxItems: this.env.BATCH_MAX_ITEMS,
        idleMs: Math.max(this.env.BATCH_MAX_WAIT_MS, 250),
        claimIdleMs: this.env.CLAIM_IDLE_MS,
      },
    );
    await worker.start();
    this.logger.log(`clustering the projects' unclustered sets (KEY_LAYOUT=project)`);
    return worker;
  }
}
