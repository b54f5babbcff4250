import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FeedbackFileError,
  parseFeedbackCsv,
  parseFeedbackJsonl,
  readFeedbackFile,
  seededShuffle,
} from '../../src/feedback/feedback-file';

describe('parseFeedbackJsonl', () => {
  it('maps snake_case fields to feedback and reports bad lines by number', () => {
    const text = [
      JSON.stringify({
        source: 'GitHub',
        title: 'Export to PDF is blank',
        body: 'Every page comes out empty.',
        created_at: '2024-05-02T09:30:00Z',
        external_id: 'acme/notes#7',
        metadata: { labels: ['bug'] },
        repo: 'acme/notes',
        github_issue_url: 'https://github.com/acme/notes/issues/7',
        github_issue_number: 7,
        status: 'closed',
        unknown_field: 'ignored',
      }),
      '',
      '{"source": "reddit", "title": "broken',
      '["not", "an", "object"]',
      JSON.stringify({ source: 'reddit', title: 'ok', metadata: ['x'] }),
      JSON.stringify({ title: 'no source here', external_id: 12345 }),
    ].join('\n');

    const { rows, rejected } = parseFeedbackJsonl(text, { defaultSource: 'manual' });

    expect(rows).toEqual([
      {
        line: 1,
        feedback: {
          source: 'github',
          title: 'Export to PDF is blank',
          body: 'Every page comes out empty.',
          createdAt: '2024-05-02T09:30:00Z',
          externalId: 'acme/notes#7',
          metadata: { labels: ['bug'] },
          repo: 'acme/notes',
          githubIssueUrl: 'https://github.com/acme/notes/issues/7',
          githubIssueNumber: '7',
          status: 'closed',
        },
      },
      {
        line: 6,
        feedback: { source: 'manual', title: 'no source here', body: '', externalId: '12345' },
      },
    ]);
    expect(rejected.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(rejected[0].reason).toMatch(/not valid JSON/);
    expect(rejected[1].reason).toBe('must be a JSON object');
    expect(rejected[2].reason).toMatch(/metadata must be a JSON object/);
  });
});

describe('parseFeedbackCsv', () => {
  it('maps columns by header name, parses metadata JSON and treats empty cells as absent', () => {
    const text = [
      'Title,source,body,metadata,external_id,created_at',
      'Login loop,reddit,"After resetting my password, the app, again and again,\nasks me to log in",' +
        '"{""subreddit"":""acmenotes""}",t3_1,2024-05-03T08:00:00+02:00',
      'Dark mode,manual,,,,',
    ].join('\n');

    const { rows, rejected } = parseFeedbackCsv(text);

    expect(rejected).toEqual([]);
    expect(rows).toEqual([
      {
        line: 2,
        feedback: {
          source: 'reddit',
          title: 'Login loop',
          body: 'After resetting my password, the app, again and again,\nasks me to log in',
          metadata: { subreddit: 'acmenotes' },
          externalId: 't3_1',
          createdAt: '2024-05-03T08:00:00+02:00',
        },
      },
      { line: 4, feedback: { source: 'manual', title: 'Dark mode', body: '' } },
    ]);
  });

  it('uses the text column as body and the default source, and rejects bad rows with their line', () => {
    const text = [
      'text,source,status,metadata',
      'Search ignores accents,,open,',
      '',
      'Crash on start,sentry,open,{not json}',
      'Too,many,columns,here,extra',
      'Sync is slow,github,pending,',
      'Offline mode please,reddit,,',
    ].join('\r\n');

    const { rows, rejected } = parseFeedbackCsv(text, {
      defaultSource: 'manual',
      textColumn: 'TEXT',
    });

    expect(rows).toEqual([
      {
        line: 2,
        feedback: { source: 'manual', title: '', body: 'Search ignores accents', status: 'open' },
      },
      { line: 7, feedback: { source: 'reddit', title: '', body: 'Offline mode please' } },
    ]);
    expect(rejected).toEqual([
      { line: 4, reason: 'metadata is not valid JSON' },
      { line: 5, reason: 'has 5 columns, the header has 4' },
      { line: 6, reason: 'status "pending" must be open or closed' },
    ]);
  });

  it('refuses a file without a source column when no default source is given', () => {
    expect(() => parseFeedbackCsv('title,body\na,b\n')).toThrow(FeedbackFileError);
  });

  it('refuses a text column that is not in the header', () => {
    expect(() => parseFeedbackCsv('source,title\nreddit,a\n', { textColumn: 'text' })).toThrow(
      /--text-column "text" is not a column/,
    );
  });
});

describe('readFeedbackFile', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'feedback-file-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('picks the parser from the extension', async () => {
    await writeFile(join(dir, 'items.csv'), 'source,title\nreddit,from csv\n');
    await writeFile(join(dir, 'items.jsonl'), '{"source":"reddit","title":"from jsonl"}\n');

    const csv = await readFeedbackFile(join(dir, 'items.csv'));
    const jsonl = await readFeedbackFile(join(dir, 'items.jsonl'));

    expect(csv.rows.map((r) => r.feedback.title)).toEqual(['from csv']);
    expect(jsonl.rows.map((r) => r.feedback.title)).toEqual(['from jsonl']);
  });

  it('fails with a FeedbackFileError for a missing file or an unknown extension', async () => {
    await writeFile(join(dir, 'items.txt'), 'hello');

    await expect(readFeedbackFile(join(dir, 'missing.jsonl'))).rejects.toThrow(/cannot read/);
    await expect(readFeedbackFile(join(dir, 'items.txt'))).rejects.toThrow(FeedbackFileError);
  });
});

describe('the bundled sample', () => {
  it('has no rejected line and only unique external ids', async () => {
    const { rows, rejected } = await readFeedbackFile(
      join(__dirname, '../../sample/feedback.jsonl'),
    );

    expect(rejected).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(150);
    const externalKeys = rows.map((r) => `${r.feedback.source}:${r.feedback.externalId}`);
    expect(new Set(externalKeys).size).toBe(rows.length);
  });
});

describe('seededShuffle', () => {
  it('returns the same permutation for the same seed and a different one for another seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);

    const first = seededShuffle(items, 42);

    expect(seededShuffle(items, 42)).toEqual(first);
    expect([...first].sort((a, b) => a - b)).toEqual(items);
    expect(first).not.toEqual(items);
    expect(seededShuffle(items, 43)).not.toEqual(first);
  });
});
