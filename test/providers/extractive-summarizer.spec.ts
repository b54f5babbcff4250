import { SummaryInput, SummaryItem } from '../../src/ports/summarizer.port';
import { ExtractiveSummarizer } from '../../src/providers/local/extractive-summarizer';

const summarizer = new ExtractiveSummarizer();

function sampleItem(fields: Partial<SummaryItem>): SummaryItem {
  return {
    id: 'i',
    source: 'manual',
    title: '',
    text: '',
    metadata: {},
    similarity: 0.9,
    ...fields,
  };
}

const sentryMetadata = {
  exception: {
    values: [
      {
        type: 'TypeError',
        value: "Cannot read properties of undefined (reading 'id')",
        stacktrace: {
          frames: [
            { function: 'handleClick', module: 'src/components/CheckoutButton.tsx', in_app: true },
            { function: 'submitOrder', module: 'src/checkout/submit-order.ts', in_app: true },
          ],
        },
      },
    ],
  },
};

const sentryTitle = "TypeError: Cannot read properties of undefined (reading 'id')";
const sentryText = `${sentryTitle}. at submitOrder (src/checkout/submit-order.ts), handleClick (src/components/CheckoutButton.tsx). user=<uuid>`;

const sentryCluster: SummaryInput = {
  clusterId: 'c1',
  size: 40,
  sources: ['sentry', 'github'],
  terms: ['reading id', 'typeerror', 'checkout'],
  items: [
    ...[1, 2, 3].map((n) =>
      sampleItem({
        id: `s${n}`,
        source: 'sentry',
        title: sentryTitle,
        text: sentryText,
        metadata: sentryMetadata,
        repo: 'acme/shop-web',
      }),
    ),
    sampleItem({
      id: 'g1',
      source: 'github',
      title: 'Checkout button crashes with TypeError',
      text: "Checkout button crashes with TypeError. Clicking 'Place order' throws when the cart is empty. cc @alice",
      githubIssueUrl: 'https://github.com/acme/shop-web/issues/412',
    }),
  ],
};

const redditCluster: SummaryInput = {
  clusterId: 'c2',
  size: 4,
  sources: ['reddit'],
  terms: ['invalid token', 'password reset', 'login'],
  items: [
    sampleItem({
      source: 'reddit',
      title: 'Help!!',
      text: 'Help! r/acmeapp. Changed password, now login says the token is invalid.',
    }),
    sampleItem({
      source: 'reddit',
      title: "Login fails with 'invalid token' after password reset",
      text: "Login fails with 'invalid token' after password reset. r/acmeapp. Reset my password yesterday and every login since fails.",
    }),
    sampleItem({
      source: 'reddit',
      title: 'invalid token??',
      text: 'invalid token? r/acmeapp. same, after password reset on <time>',
    }),
    sampleItem({
      source: 'reddit',
      title: 'Login broken',
      text: 'Login broken. r/acmeapp. Password reset, then invalid token.',
    }),
  ],
};

describe('ExtractiveSummarizer', () => {
  it('is called extractive', () => {
    expect(summarizer.name).toBe('extractive');
  });

  it('names a Sentry cluster after its error and suggests fixing it where it was raised', async () => {
    const summary = await summarizer.summarize(sentryCluster);
    expect(summary.title).toBe(sentryTitle);
    expect(summary.issueTitle).toBe(`Fix ${sentryTitle} in submitOrder`);
    expect(summary.summary).toMatch(
      /^40 reports from Sentry and GitHub mentioning reading id, typeerror and checkout\. Raised in submitOrder \(src\/checkout\/submit-order\.ts\)\./,
    );
    expect(summary.summary).toContain("Representative report: \"Clicking 'Place order' throws");
    expect(summary.githubRepoUrl).toBe('https://github.com/acme/shop-web');
  });

  it('describes the issue with counts per source, terms, quotes, linked issues and the error', async () => {
    const { issueDescription } = await summarizer.summarize(sentryCluster);
    expect(issueDescription).toContain('40 reports in total.');
    expect(issueDescription).toContain('By source, in a sample of 4:\n\n- Sentry: 3\n- GitHub: 1');
    expect(issueDescription).toContain('`reading id`, `typeerror`, `checkout`');
    expect(issueDescription).toContain('- https://github.com/acme/shop-web/issues/412');
    expect(issueDescription).toContain('  at submitOrder (src/checkout/submit-order.ts)');
    // Identical Sentry reports are quoted once; placeholders and mentions stay inert in Markdown.
    expect(issueDescription.match(/^> .*user=/gm)).toHaveLength(1);
    expect(issueDescription).toContain('user=&lt;uuid>');
    expect(issueDescription).toContain('cc `@alice`');
  });

  it('names a Reddit cluster after the line that best covers its distinctive terms', async () => {
    const summary = await summarizer.summarize(redditCluster);
    expect(summary.title).toBe("Login fails with 'invalid token' after password reset");
    expect(summary.issueTitle).toBe(
      "Investigate: Login fails with 'invalid token' after password reset",
    );
    expect(summary.summary).toBe(
      '4 reports from Reddit mentioning invalid token, password reset and login. Representative report: "Changed password, now login says the token is invalid.".',
    );
    expect(summary.githubRepoUrl).toBeUndefined();
  });

  it('keeps titles within 80 and issue titles within 100 characters', async () => {
    const long =
      'The export of the quarterly revenue report to spreadsheet format fails for every account with more than one currency configured';
    const summary = await summarizer.summarize({
      ...redditCluster,
      items: [sampleItem({ title: long, text: long })],
    });
    expect(summary.title.length).toBeLessThanOrEqual(80);
    expect(summary.title).toMatch(/^The export of the quarterly revenue report .*…$/);
    expect(summary.issueTitle.length).toBeLessThanOrEqual(100);
  });

  it('removes personal and volatile tokens from the title but keeps numbers', async () => {
    const summary = await summarizer.summarize({
      ...redditCluster,
      terms: [],
      items: [
        sampleItem({
          title: 'Error 500 when jane@example.com saves order 3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b',
        }),
      ],
    });
    expect(summary.title).toBe('Error 500 when saves order');
  });

  it('falls back to a generic title for an empty sample', async () => {
    const summary = await summarizer.summarize({
      clusterId: 'c',
      size: 3,
      sources: [],
      items: [],
      terms: [],
    });
    expect(summary.title).toBe('Feedback cluster (3 items)');
    expect(summary.summary).toBe('3 reports.');
    expect(summary.issueTitle).toBe('Investigate: Feedback cluster (3 items)');
  });

  it('never throws on odd input', async () => {
    const odd = [
      {},
      { items: 'x', terms: [1, null], sources: 'reddit', size: Number.NaN },
      { items: [null, 1, { source: 7, title: {}, text: ['x'], metadata: 'x' }], size: -1 },
      { items: [sampleItem({ text: '<num> <uuid>', title: '!!!' })], size: 1 },
      { items: [sampleItem({ text: 'ü'.repeat(100_000), title: 'x'.repeat(100_000) })], size: 1 },
    ] as unknown as SummaryInput[];
    for (const input of odd) {
      const summary = await summarizer.summarize(input);
      expect(summary.title.length).toBeGreaterThan(0);
      expect(summary.title.length).toBeLessThanOrEqual(80);
      expect(summary.issueTitle.length).toBeLessThanOrEqual(100);
    }
  });

  it('is deterministic', async () => {
    expect(await summarizer.summarize(sentryCluster)).toEqual(
      await summarizer.summarize(sentryCluster),
    );
  });
});
