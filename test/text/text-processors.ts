import { parseFeedbackHash } from '../../src/feedback/feedback-item';
import { validateNewFeedback } from '../../src/feedback/feedback-writer';
import { normalizeVolatile, removePlaceholders } from '../../src/text/normalize-volatile';
import { prepareText } from '../../src/text/prepare-text';
import { describeFrame, readSentryDetails } from '../../src/text/sentry-metadata';
import { condenseStackTrace } from '../../src/text/stack-trace';
import { collapseWhitespace, stripMarkup } from '../../src/text/strip-markup';
import { truncateAtWord } from '../../src/text/truncate-text';
import { distinctiveTerms, TermStatistics } from '../../src/text/distinctive-terms';
import { deriveGithubRepoUrl, parseGithubRepository } from '../../src/text/github-repo';
import { SummaryItem } from '../../src/ports/summarizer.port';
import { termsOf } from '../../src/text/terms';
import { buildPrompt, validateSummary } from '../../src/providers/gemini/gemini-summarizer';
import { tokenize } from '../../src/providers/local/embedding/tokenize';
import { ExtractiveSummarizer } from '../../src/providers/local/extractive-summarizer';
import { LocalEmbedder } from '../../src/providers/local/local-embedder';
import { AdversarialString, adversarialStrings } from '../support/adversarial-text';
import { feedbackItem } from '../support/feedback-item';

/**
 * Every function of the service that reads item text, and how long it may take on a 16 kB
 * hostile string.
 */

/** The budget per call on a 16 kB string: anything worse than linear blows it by far. */
export const BUDGET_MS = 50;
/*
 * Time is this process's CPU time, not the wall clock: on a machine shared with other jobs a
 * call can wait for a core far longer than it computes. A call over budget is timed twice
 * more and the fastest attempt counts, since a garbage collection can land in any one call.
 */
const ATTEMPTS = 3;

const item = feedbackItem;

const summaryItem = (text: string): SummaryItem => ({
  id: 'f1',
  source: 'github',
  title: text,
  text,
  metadata: { repo: text, message: text },
  repo: text,
  githubIssueUrl: text,
  similarity: 1,
});

const embedder = new LocalEmbedder();
const summarizer = new ExtractiveSummarizer();

/** Every function of the service that reads item text, each fed the hostile string whole. */
export const TEXT_PROCESSORS: Record<string, (text: string) => unknown> = {
  stripMarkup,
  collapseWhitespace,
  normalizeVolatile: (text) => normalizeVolatile(text),
  'normalizeVolatile (keep numbers)': (text) => normalizeVolatile(text, { keepNumbers: true }),
  removePlaceholders,
  condenseStackTrace: (text) => condenseStackTrace(text, 3),
  truncateAtWord: (text) => truncateAtWord(text, 4000, '…'),
  'prepareText (title)': (text) => prepareText(item({ title: text }), 4000),
  'prepareText (body)': (text) => prepareText(item({ body: text }), 4000),
  'prepareText (reddit, github metadata)': (text) => [
    prepareText(item({ source: 'reddit', body: text, metadata: { subreddit: text } }), 4000),
    prepareText(item({ source: 'github', title: text, metadata: { labels: [text, text] } }), 4000),
  ],
  'prepareText (sentry)': (text) =>
    prepareText(
      item({
        source: 'sentry',
        title: text,
        body: text,
        metadata: {
          type: text,
          value: text,
          culprit: text,
          frames: [{ function: text, module: text }],
        },
      }),
      4000,
    ),
  readSentryDetails: (text) =>
    readSentryDetails({
      exception: {
        values: [{ type: text, value: text, stacktrace: { frames: [text, { function: text }] } }],
      },
    }),
  describeFrame: (text) => describeFrame({ function: text, module: text }),
  parseFeedbackHash: (text) =>
    parseFeedbackHash('f1', { source: text, title: text, body: text, metadata: text, repo: text }),
  validateNewFeedback: (text) => {
    try {
      return validateNewFeedback({
        source: text,
        title: text,
        body: text,
        repo: text,
        githubIssueUrl: text,
      });
    } catch (error) {
      return error;
    }
  },
  tokenize,
  'LocalEmbedder.embed': (text) => embedder.embed([text]),
  termsOf,
  distinctiveTerms: (text) => distinctiveTerms([text]),
  'TermStatistics.observe': (text) => new TermStatistics().observe([text]),
  parseGithubRepository,
  deriveGithubRepoUrl: (text) => [
    deriveGithubRepoUrl([{ title: text, text }]),
    deriveGithubRepoUrl([{ repo: text, githubIssueUrl: text, metadata: { repository: text } }]),
  ],
  'ExtractiveSummarizer.summarize': (text) =>
    summarizer.summarize({
      clusterId: 'c1',
      size: 3,
      sources: [text],
      terms: [],
      items: [summaryItem(text), summaryItem(text), { ...summaryItem(text), source: 'sentry' }],
    }),
  'Gemini buildPrompt': (text) =>
    buildPrompt(
      { clusterId: 'c1', size: 1, sources: [text], terms: [text], items: [summaryItem(text)] },
      4000,
    ),
  'Gemini validateSummary': (text) => {
    const answer = JSON.stringify({
      title: text,
      summary: text,
      issue_title: text,
      issue_description: text,
    });
    try {
      return validateSummary(answer, [summaryItem(text)]);
    } catch (error) {
      return error;
    }
  },
};

async function fastestCpuMs(fn: () => unknown): Promise<number> {
  let best = Infinity;
  for (let attempt = 0; attempt < ATTEMPTS && best > BUDGET_MS; attempt++) {
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

/** The calls of one processor over budget: "shape: N ms". */
export type SlowCalls = Record<string, string[]>;

/** Times every processor on every string of the corpus; lists the calls over budget. */
export async function slowCalls(corpus: readonly AdversarialString[]): Promise<SlowCalls> {
  // Loads the word vectors once, so that no call below pays for it.
  await embedder.embed(['warm up']);
  const slow: SlowCalls = {};
  for (const [name, fn] of Object.entries(TEXT_PROCESSORS)) {
    slow[name] = [];
    for (const { name: shape, text } of corpus) {
      const ms = await fastestCpuMs(() => fn(text));
      if (ms > BUDGET_MS) slow[name].push(`${shape}: ${ms.toFixed(0)} ms`);
    }
  }
  return slow;
}

/* Run as a script, it prints the slow calls as JSON (the spec runs it in a fresh process). */
if (require.main === module) {
  void slowCalls(adversarialStrings(16 * 1024)).then((slow) => {
    process.stdout.write(JSON.stringify(slow));
  });
}
