import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ClusteringMetrics } from '../../src/metrics/clustering-metrics';
import { FeedbackKeys } from '../../src/redis/keys';
import { useServiceFixture } from '../support/service-fixture';
import { eventually } from '../support/test-app';

/** Database on the real Redis, shared with test/http (specs run one after another). */
const DB = 7;
const GROUP = 'clustering';

/** The value of one series in the exposition text, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  const fixture = useServiceFixture(DB);

  async function scrape(app: INestApplication): Promise<string> {
    const response = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    return response.text;
  }

  it('reports the stream backlog on scrape, in /metrics and /health/ready', async () => {
    const app = await fixture.start(); // consumer off: the group exists, nobody reads
    for (const title of ['payment one', 'payment two', 'dark three']) {
      await fixture.writer.write({ source: 'reddit', title });
    }
    await fixture.redis.xreadgroup(
      'GROUP',
      GROUP,
      'someone',
      'COUNT',
      1,
      'STREAMS',
      FeedbackKeys.events,
      '>',
    );

    const text = await scrape(app);
    const labels = `{stream="${FeedbackKeys.events}",group="${GROUP}"}`;
    expect(sample(text, `clustering_stream_lag${labels}`)).toBe(2);
    expect(sample(text, `clustering_stream_pending${labels}`)).toBe(1);

    const { body } = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(body).toMatchObject({
      status: 'ok',
      info: { stream_lag: { status: 'up', lag: 2, pending: 1 } },
    });
  });

  it('counts stream batches, clustered items, new clusters, dead letters and job outcomes', async () => {
    const app = await fixture.start({ CONSUMER_ENABLED: 'true', BATCH_MAX_WAIT_MS: '1' });
    await fixture.writer.writeMany([
      { source: 'reddit', title: 'payment fails' },
      { source: 'sentry', title: 'payment declined' },
      { source: 'reddit', title: 'dark mode please' },
    ]);
    await fixture.redis.xadd(FeedbackKeys.events, '*', 'type', 'feedback.created'); // no id: dead letter
    const [silent] = await fixture.writer.writeMany([{ source: 'reddit', title: 'login broken' }], {
      emitEvent: false,
    });
    if (!silent.ok) throw silent.error;
    await eventually(async () =>
      (await fixture.redis.scard(FeedbackKeys.unclustered)) === 1 ? true : undefined,
    );
    const job = await request(app.getHttpServer()).post('/cluster-jobs').send({}).expect(202);
    await eventually(async () => {
      const { body } = await request(app.getHttpServer()).get(
        `/cluster-jobs/${(job.body as { id: string }).id}`,
      );
      return (body as { status: string }).status === 'succeeded' ? true : undefined;
    });

    const text = await scrape(app);
    expect(sample(text, 'clustering_items_clustered_total{origin="stream"}')).toBe(3);
    expect(sample(text, 'clustering_clusters_created_total{origin="stream"}')).toBe(2);
    expect(sample(text, 'clustering_items_clustered_total{origin="job"}')).toBe(1);
    expect(sample(text, 'clustering_clusters_created_total{origin="job"}')).toBe(1);
    expect(sample(text, 'clustering_dead_lettered_total')).toBe(1);
    expect(sample(text, 'clustering_batch_size_count{origin="stream"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'clustering_batch_size_sum{origin="stream"}')).toBe(4);
    expect(sample(text, 'clustering_batch_duration_seconds_count{origin="job"}')).toBe(1);
    expect(
      sample(text, 'clustering_jobs_total{trigger="api",mode="incremental",outcome="succeeded"}'),
    ).toBe(1);
    expect(
      sample(text, `clustering_stream_lag{stream="${FeedbackKeys.events}",group="${GROUP}"}`),
    ).toBe(0);
    expect(sample(text, 'clustering_clusters_merged_total')).toBe(0);
  });

  it('exposes provider calls, errors and retries reported through the ProviderMetrics hooks', async () => {
    const app = await fixture.start();
    const providers = app.get(ClusteringMetrics);
    providers.call('gemini', 'embed', 'success', 0.2);
    providers.call('gemini', 'embed', 'timeout', 5);
    providers.retry('gemini', 'embed');

    const text = await scrape(app);
    const embed = 'provider="gemini",operation="embed"';
    expect(sample(text, `clustering_provider_calls_total{${embed},outcome="success"}`)).toBe(1);
    expect(sample(text, `clustering_provider_calls_total{${embed},outcome="timeout"}`)).toBe(1);
    expect(sample(text, `clustering_provider_errors_total{${embed},outcome="timeout"}`)).toBe(1);
    expect(
      sample(text, `clustering_provider_errors_total{${embed},outcome="success"}`),
    ).toBeUndefined();
    expect(sample(text, `clustering_provider_retries_total{${embed}}`)).toBe(1);
    expect(sample(text, `clustering_provider_call_duration_seconds_count{${embed}}`)).toBe(2);
  });
});
