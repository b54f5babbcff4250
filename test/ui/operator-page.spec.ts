import { INestApplication } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { chromium, Browser, Page } from 'playwright-core';
import { FeedbackRepository } from '../../src/feedback/feedback.repository';
import { FeedbackWriter } from '../../src/feedback/feedback-writer';
import { ClusteringPipeline } from '../../src/pipeline/clustering-pipeline';
import { ProjectContexts } from '../../src/projects/project-contexts';
import { Keyspace } from '../../src/redis/keyspace';
import { DeadLetters } from '../../src/stream/dead-letters';
import { useServiceFixture } from '../support/service-fixture';
import { waitFor } from '../support/test-redis';

const DB = 14;
const CHROMIUM = '/usr/bin/chromium';
const PROJECT = 'clx0ui00000project0001';
const OTHER = 'clx0ui00000project0002';
const HOSTILE = '<script>window.__pwned = 1</script> payment <b>broken</b> & "quoted"';

/** Items on two topics, one with markup in its title, clustered by the app's own pipeline. */
async function seed(app: INestApplication, keys: Keyspace, redis: FeedbackWriter['redis']) {
  const writer = new FeedbackWriter(redis, keys);
  const titles = [
    HOSTILE,
    'payment declined at checkout',
    'payment card refused',
    'crash when saving',
    'crash on start',
  ];
  const ids: string[] = [];
  for (const title of titles) {
    ids.push(
      (
        await writer.write(
          { source: 'reddit', title, body: `${title} (body)` },
          { emitEvent: false },
        )
      ).id,
    );
  }
  const contexts = app.get(ProjectContexts);
  await (await contexts.get(ClusteringPipeline, keys.projectId)).process(ids);
  const fields: Record<string, string> = { id: 'f-dead', type: 'feedback.created' };
  if (keys.projectId) fields.project_id = keys.projectId;
  await new DeadLetters(redis).add([
    { entry: { entryId: '1-1', fields }, reason: '<img src=x onerror=alert(1)> boom' },
  ]);
  await new FeedbackRepository(redis, keys).park([{ id: 'f-parked', reason: 'no visible text' }]);
}

describe('operator page /ui in headless Chromium', () => {
  const fixture = useServiceFixture(DB);
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `the browser test needs Debian's chromium at ${CHROMIUM} (apt-get install chromium)`,
      );
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => browser?.close());
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  });
  afterEach(async () => page.close());

  const baseUrl = (app: INestApplication) => {
    const address = (app.getHttpServer() as Server).address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  };

  it('lists clusters by size, opens a cluster’s items, shows markup in item text as text', async () => {
    const app = await fixture.start();
    await seed(app, Keyspace.flat(), fixture.redis);
    await page.goto(`${baseUrl(app)}/ui`);

    const rows = page.locator('#clusters tr.cluster');
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.nth(0).locator('td.n').innerText()).resolves.toBe('3');
    await expect(rows.nth(1).locator('td.n').innerText()).resolves.toBe('2');
    await expect(page.locator('#dead-letters').innerText()).resolves.toContain(
      '<img src=x onerror=alert(1)> boom',
    );
    await expect(page.locator('#parked').innerText()).resolves.toContain('no visible text');
    await page.screenshot({ path: '/tmp/ui-overview.png', fullPage: true });

    await rows.nth(0).locator('a.cluster-link').click();
    await page.waitForURL(/\/ui\/clusters\//);
    const titles = await page.locator('#items td.item-title').allInnerTexts();
    expect(titles).toHaveLength(3);
    expect(titles).toContain(HOSTILE);
    // Nothing of the items ran or became markup.
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('main script, main b, main img').count()).toBe(0);
    await page.screenshot({ path: '/tmp/ui-cluster.png', fullPage: true });

    await page.locator('a', { hasText: 'All clusters' }).click();
    await page.waitForURL(/\/ui$/);

    // By trend, each with its sparkline of the last 7 days.
    await page.locator('#clusters nav a', { hasText: 'trend' }).click();
    await page.waitForURL(/sort=trending/);
    await expect(page.locator('#clusters tr.cluster').count()).resolves.toBe(2);
    await expect(page.locator('#clusters svg.sparkline').count()).resolves.toBe(2);
    const arrivals = await page.locator('#clusters td.growth').allInnerTexts();
    expect(arrivals.map((n) => n.trim())).toEqual(['3', '2']);
    await page.screenshot({ path: '/tmp/ui-trending.png', fullPage: true });
  });

  it('picks a project in the project layout and shows only its clusters', async () => {
    const app = await fixture.start({ KEY_LAYOUT: 'project' });
    await seed(app, Keyspace.project(PROJECT), fixture.redis);
    const other = new FeedbackWriter(fixture.redis, Keyspace.project(OTHER));
    await other.write({ source: 'manual', title: 'login loops forever' }, { emitEvent: false });
    await fixture.redis.sadd('clustering:projects', PROJECT, OTHER);
    await page.goto(`${baseUrl(app)}/ui`);

    await expect(page.locator('#clusters').count()).resolves.toBe(0);
    await page.locator('#project-picker select').selectOption(PROJECT);
    await page.locator('#project-picker button').click();
    await page.waitForURL(new RegExp(`project_id=${PROJECT}`));
    await expect(page.locator('#clusters tr.cluster').count()).resolves.toBe(2);
    await expect(page.locator('#dead-letters').innerText()).resolves.toContain('boom');
    await page.screenshot({ path: '/tmp/ui-project.png', fullPage: true });

    await page.locator('#clusters a.cluster-link').first().click();
    await waitFor(
      async () => (await page.locator('#items td.item-title').count()) === 3,
      5_000,
      'items',
    );
    expect(page.url()).toContain(`project_id=${PROJECT}`);

    await page.goto(`${baseUrl(app)}/ui?project_id=${OTHER}`);
    await expect(page.locator('#clusters').innerText()).resolves.toContain('No clusters yet.');
  });
});
