import { INestApplication } from '@nestjs/common';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { verifySignature } from '../../src/alerts/alert-math';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { Keyspace } from '../../src/redis/keyspace';
import { startApp } from '../support/test-app';
import { closeTestRedis, openTestRedis, waitFor } from '../support/test-redis';

/** This spec's own database on the real Redis. */
const DB = 15;
const SECRET = 'webhook-secret-for-tests';
const PROJECT = 'clxalerts0000project01';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A local webhook receiver: answers each request with the next planned status (then 200). */
class TestReceiver {
  readonly requests: Received[] = [];
  private server?: Server;

  constructor(private readonly statuses: number[] = []) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        this.requests.push({ headers: req.headers, body, at: Date.now() });
        res.writeHead(this.statuses.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/clusters`;
  }

  /** Bodies of the requests whose signature verifies, parsed. */
  verified(): Array<Record<string, unknown>> {
    return this.requests
      .filter((r) => verifySignature(SECRET, r.body, String(r.headers['x-alert-signature'])))
      .map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('webhook alerts through the real service', () => {
  let redis: Redis;
  let app: INestApplication | undefined;
  let receiver: TestReceiver;

  const start = async (statuses: number[], env: Record<string, string>) => {
    redis = await openTestRedis(DB);
    receiver = new TestReceiver(statuses);
    const url = await receiver.start();
    app = await startApp(DB, {
      CONSUMER_ENABLED: 'true',
      WEBHOOK_URL: url,
      WEBHOOK_SECRET: SECRET,
      ALERT_POLL_MS: '50',
      ALERT_RETRY_BASE_MS: '200',
      ...env,
    });
  };

  afterEach(async () => {
    await receiver.stop();
    await app?.close();
    app = undefined;
    await closeTestRedis(redis);
  });

  async function writeItems(
    keys: Keyspace,
    titles: string[],
    timeoutMs = 20_000,
  ): Promise<string[]> {
    const writer = new FeedbackWriter(redis, keys);
    const ids: string[] = [];
    for (const title of titles) ids.push((await writer.write({ source: 'manual', title })).id);
    await waitFor(
      async () => (await redis.smismember(keys.feedback.unclustered, ...ids)).every((m) => m === 0),
      timeoutMs,
      'items clustered',
    );
    return ids;
  }

  it('POSTs a signed alert once per cluster and size, and once when it turns emerging', async () => {
    await start([], { ALERT_SIZES: '3,5,100' });
    const titles = [0, 1, 2, 3, 4].map((i) => `payment declined ${i}`);
    const [first] = await writeItems(Keyspace.flat(), titles);
    const clusterId = (await redis.hget(`feedback:${first}`, 'cluster_id'))!;
    await waitFor(async () => receiver.requests.length >= 3, 10_000, 'three alerts');

    const alerts = receiver.verified();
    expect(alerts).toHaveLength(receiver.requests.length);
    expect(alerts.map((a) => a.id).sort()).toEqual(
      [`${clusterId}:emerging`, `${clusterId}:size:3`, `${clusterId}:size:5`].sort(),
    );
    const sized = alerts.find((a) => a.id === `${clusterId}:size:5`)!;
    expect(sized).toMatchObject({
      type: 'cluster.size_reached',
      threshold: 5,
      project_id: null,
      cluster: { id: clusterId, size: 5, growth_24h: 5, emerging: true },
    });
    expect(alerts.find((a) => a.id === `${clusterId}:emerging`)).toMatchObject({
      type: 'cluster.emerging',
    });
    const request = receiver.requests[0];
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-alert-id']).toBe(JSON.parse(request.body).id);

    // The cluster grows on: no alert is sent twice.
    await writeItems(Keyspace.flat(), ['payment declined 5', 'payment declined 6']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests).toHaveLength(3);
    const sent = await redis.hgetall('clustering:alerts:sent');
    expect(Object.values(sent).map((s) => (JSON.parse(s) as { state: string }).state)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);
  });

  it('retries a failed delivery with a longer pause each time, with the same signed body', async () => {
    await start([500, 502], { ALERT_SIZES: '2' });
    await writeItems(Keyspace.flat(), ['dark mode 1', 'dark mode 2']);
    await waitFor(async () => receiver.requests.length >= 3, 10_000, 'three attempts');

    const [a, b, c] = receiver.requests;
    expect(new Set([a.body, b.body, c.body]).size).toBe(1);
    expect(receiver.verified()).toHaveLength(3);
    // Backoff of 200 ms, then 400 ms (ALERT_RETRY_BASE_MS doubled).
    expect(b.at - a.at).toBeGreaterThanOrEqual(190);
    expect(c.at - b.at).toBeGreaterThanOrEqual(390);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toHaveLength(3);
    expect(await redis.zcard('clustering:alerts:queue')).toBe(0);
    expect(await redis.hlen('clustering:alerts:parked')).toBe(0);
  });

  it('parks an alert after ALERT_MAX_ATTEMPTS failures, with the reason, and sends it no more', async () => {
    await start([503, 503, 503, 503], { ALERT_SIZES: '2', ALERT_MAX_ATTEMPTS: '3' });
    await writeItems(Keyspace.flat(), ['crash on start 1', 'crash on start 2']);
    await waitFor(
      async () => (await redis.hlen('clustering:alerts:parked')) === 1,
      10_000,
      'alert parked',
    );
    const parked = await redis.hgetall('clustering:alerts:parked');
    const [[id, raw]] = Object.entries(parked);
    expect(id).toMatch(/:size:2$/);
    expect(JSON.parse(raw)).toMatchObject({ attempts: 3, reason: 'HTTP 503' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests).toHaveLength(3);
    expect(await redis.zcard('clustering:alerts:queue')).toBe(0);
  });

  it('keeps clustering while the receiver does not answer', async () => {
    redis = await openTestRedis(DB);
    // A receiver that accepts connections and never answers.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    receiver = new TestReceiver();
    const port = (silent.address() as AddressInfo).port;
    app = await startApp(DB, {
      CONSUMER_ENABLED: 'true',
      WEBHOOK_URL: `http://127.0.0.1:${port}/`,
      WEBHOOK_SECRET: SECRET,
      ALERT_POLL_MS: '50',
      ALERT_SIZES: '1',
    });
    await writeItems(Keyspace.flat(), ['login fails 1']);
    await waitFor(async () => (await redis.zcard('clustering:alerts:queue')) === 1, 5000, 'queued');
    // The first alert's delivery hangs (for up to its 10 s timeout); items written after it are
    // clustered well before that.
    const later = await writeItems(Keyspace.flat(), ['login fails 2', 'dark theme 3'], 5000);
    expect(later).toHaveLength(2);
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('alerts per project in the project layout', async () => {
    await start([], { KEY_LAYOUT: 'project', ALERT_SIZES: '2' });
    const keys = Keyspace.project(PROJECT);
    const [first] = await writeItems(keys, ['payment one', 'payment two']);
    const clusterId = (await redis.hget(keys.feedback.item(first), 'cluster_id'))!;
    await waitFor(async () => receiver.requests.length >= 1, 10_000, 'an alert');
    expect(receiver.verified()).toEqual([
      expect.objectContaining({
        id: `${clusterId}:size:2`,
        project_id: PROJECT,
        cluster: expect.objectContaining({ id: clusterId, size: 2 }),
      }),
    ]);
    expect(await redis.hlen(`clustering:${PROJECT}:alerts:sent`)).toBe(1);
  });
});
