import { normalizeVolatile, removePlaceholders } from '../../text/normalize-volatile';
import {
  describeFrame,
  readSentryDetails,
  SentryDetails,
  SentryFrame,
} from '../../text/sentry-metadata';
import { collapseWhitespace, stripMarkup } from '../../text/strip-markup';
import { truncateAtWord } from '../../text/truncate-text';
import { distinctiveTerms } from '../../text/distinctive-terms';
import { deriveGithubRepoUrl } from '../../text/github-repo';
import { ClusterSummary, Summarizer, SummaryInput } from '../../ports/summarizer.port';
import { termsOf } from '../../text/terms';

const TITLE_MAX = 80;
const ISSUE_TITLE_MAX = 100;
const SUMMARY_QUOTE_MAX = 160;
const ISSUE_QUOTE_MAX = 280;
const ISSUE_QUOTES = 5;
const ISSUE_LINKS = 10;
const ISSUE_TERMS = 10;
/** Only the most representative items are considered for the title. */
const TITLE_CANDIDATE_ITEMS = 5;
const TITLE_TERMS = 6;
/** Raw titles and texts are cut before any regex runs on them. */
const RAW_TITLE_BUDGET = 2000;
const RAW_TEXT_BUDGET = 8000;

const SOURCE_NAMES: Record<string, string> = {
  reddit: 'Reddit',
  sentry: 'Sentry',
  github: 'GitHub',
  manual: 'manual notes',
  splunk: 'Splunk',
  posthog: 'PostHog',
  datadog: 'Datadog',
};

const GITHUB_ISSUE_URL = /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/(?:issues|pull)\/\d+\/?$/;
const ANONYMOUS_FUNCTIONS = new Set(['?', '<anonymous>', 'anonymous', '<unknown>', '<module>']);

/** A sample item with every field checked, so odd input cannot make the summarizer throw. */
interface SampleItem {
  source: string;
  title: string;
  text: string;
  metadata: unknown;
  repo?: string;
  githubIssueUrl?: string;
}

interface TitleCandidate {
  text: string;
  score: number;
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function readSample(input: SummaryInput | undefined): SampleItem[] {
  const items: unknown[] = Array.isArray(input?.items) ? input.items : [];
  return items.flatMap((raw) => {
    if (raw === null || typeof raw !== 'object') return [];
    const item = raw as Record<string, unknown>;
    return [
      {
        source: asString(item.source).toLowerCase() || 'unknown',
        title: asString(item.title).slice(0, RAW_TITLE_BUDGET),
        text: asString(item.text).slice(0, RAW_TEXT_BUDGET),
        metadata: item.metadata,
        repo: asString(item.repo) || undefined,
        githubIssueUrl: asString(item.githubIssueUrl) || undefined,
      },
    ];
  });
}

function sourceName(source: string): string {
  return SOURCE_NAMES[source] ?? source.charAt(0).toUpperCase() + source.slice(1);
}

/** "a", "a and b", "a, b and c". */
function listPhrase(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/*
 * Edge characters are trimmed by a loop, not by `[...]+$`, which tries again from every
 * character of a long run.
 */
const TRAILING_BEFORE_ELLIPSIS = /[\s,;:.\-–—(/]/u;
const LEADING_IN_HEADLINE = /[\s,;:.\-–—|/]/u;
const TRAILING_IN_HEADLINE = /[\s,;:\-–—|/]/u;

function trimEdges(text: string, leading: RegExp | undefined, trailing: RegExp): string {
  let start = 0;
  let end = text.length;
  while (leading && start < end && leading.test(text[start])) start++;
  while (end > start && trailing.test(text[end - 1])) end--;
  return text.slice(start, end);
}

/** Cuts to `max` characters on a word boundary, marking the cut with an ellipsis. */
function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${trimEdges(truncateAtWord(text, max - 1), undefined, TRAILING_BEFORE_ELLIPSIS)}…`;
}

/**
 * Makes a raw or prepared line fit to be read as a name: no markup, no personal or volatile
 * tokens (emails, ids, times), but numbers kept, since "error 500" names a problem.
 */
function headline(raw: string): string {
  const text = normalizeVolatile(stripMarkup(raw.slice(0, RAW_TITLE_BUDGET)), {
    keepNumbers: true,
  });
  const tidy = trimEdges(
    collapseWhitespace(removePlaceholders(text).replace(/\(\s*\)|\[\s*\]|''|""/g, ' ')).replace(
      / ([,.;:!?)])/g,
      '$1',
    ),
    LEADING_IN_HEADLINE,
    TRAILING_IN_HEADLINE,
  );
  return tidy.replace(/\.$/, '').replace(/^\p{Ll}/u, (first) => first.toUpperCase());
}

function firstSentence(text: string): string {
  return text.split(/(?<=[.!?。！？])\s+/u, 1)[0] ?? '';
}

function isReadable(text: string): boolean {
  return /[\p{L}]/u.test(text);
}

/**
 * Picks the best name among the titles and first sentences of the most representative items:
 * the one that covers the most distinctive terms, preferring earlier items and lines that
 * are neither a word or two nor a paragraph.
 */
function chooseTitle(sample: readonly SampleItem[], terms: readonly string[]): string | undefined {
  const topTerms = terms.slice(0, TITLE_TERMS);
  let best: TitleCandidate | undefined;
  sample.slice(0, TITLE_CANDIDATE_ITEMS).forEach((item, index) => {
    const lines: Array<[string, number]> = [
      [item.title, 1],
      [firstSentence(item.text), 0.9],
    ];
    for (const [raw, kindWeight] of lines) {
      const text = headline(raw);
      if (!isReadable(text)) continue;
      const { unigrams, bigrams } = termsOf(text.toLowerCase());
      const coverage = topTerms.reduce(
        (sum, term, rank) => sum + (unigrams.has(term) || bigrams.has(term) ? 1 / (rank + 1) : 0),
        0,
      );
      const words = text.split(' ').length;
      const lengthWeight = text.length < 12 || words < 3 ? 0.6 : text.length > TITLE_MAX ? 0.85 : 1;
      const score = (0.5 + coverage) * (1 / (1 + 0.25 * index)) * kindWeight * lengthWeight;
      if (!best || score > best.score) best = { text, score };
    }
  });
  return best?.text;
}

function clusterTitle(sample: readonly SampleItem[], terms: readonly string[], size: number) {
  const chosen = chooseTitle(sample, terms);
  if (chosen) return fit(chosen, TITLE_MAX);
  if (terms.length > 0) return fit(`Feedback about ${listPhrase(terms.slice(0, 3))}`, TITLE_MAX);
  return `Feedback cluster (${plural(size, 'item')})`;
}

function quote(text: string, max: number): string {
  return fit(collapseWhitespace(text).replace(/"/g, "'"), max);
}

function representativeQuotes(sample: readonly SampleItem[], max: number): SampleItem[] {
  const seen = new Set<string>();
  return sample
    .filter((item) => {
      const key = collapseWhitespace(item.text).toLowerCase();
      if (!isReadable(key) || seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, max);
}

/**
 * The Sentry error of the cluster, when Sentry reports make up at least half of the sample
 * (with no type or message when their metadata names none).
 */
function dominantSentryError(sample: readonly SampleItem[], sources: readonly string[]) {
  const sentryItems = sample.filter((item) => item.source === 'sentry');
  const dominant =
    sample.length > 0
      ? sentryItems.length * 2 >= sample.length && sentryItems.length > 0
      : sources.length === 1 && sources[0] === 'sentry';
  if (!dominant) return undefined;
  for (const item of sentryItems) {
    const details = readSentryDetails(item.metadata);
    if (details.type || details.message) return details;
  }
  return { frames: [] };
}

function exceptionLine(details: SentryDetails): string {
  return headline([details.type, details.message].filter(Boolean).join(': '));
}

/** "checkout" for "webpack:///./src/checkout.js"; dotted modules ("app.views") stay whole. */
function moduleName(module: string): string {
  if (!/[/\\]/.test(module)) return module;
  const file = module.split(/[/\\]/).pop() ?? module;
  return file.replace(/\.[A-Za-z0-9]+$/, '') || module;
}

/** Where an error happened, as a reader of the issue title would look for it. */
function frameLocation(frame: SentryFrame | undefined): string | undefined {
  if (!frame) return undefined;
  if (frame.function && !ANONYMOUS_FUNCTIONS.has(frame.function)) return frame.function;
  return frame.module ? moduleName(frame.module) : undefined;
}

function issueTitle(title: string, error: SentryDetails | undefined): string {
  const exception = error ? exceptionLine(error) : '';
  if (!exception) return fit(error ? `Fix ${title}` : `Investigate: ${title}`, ISSUE_TITLE_MAX);
  const base = `Fix ${exception}`;
  // The location only when it fits: the exception itself matters more.
  const location = frameLocation(error?.frames[0]);
  const located = location ? `${base} in ${location}` : base;
  return located.length <= ISSUE_TITLE_MAX ? located : fit(base, ISSUE_TITLE_MAX);
}

/* Sentences `prepareText` adds from metadata ("r/acmeapp.", "labels: bug, auth."). */
const CONTEXT_SENTENCE = /^(?:r\/[\p{L}\p{N}_]+|labels: [^.]*)\.$/u;

/**
 * A representative report for the summary, without its title (the cluster's, or its own)
 * or the metadata prepareText added. Sentry reports are raw traces: a person's words are preferred.
 */
function summaryQuote(
  sample: readonly SampleItem[],
  title: string,
  error: SentryDetails | undefined,
): string | undefined {
  const candidates = representativeQuotes(sample, ISSUE_QUOTES);
  const chosen = error ? candidates.find((item) => item.source !== 'sentry') : candidates[0];
  if (!chosen) return undefined;
  const sentences = collapseWhitespace(chosen.text).split(/(?<=[.!?。！？])\s+/u);
  // The body says more than a title the summary already has, or "Help!".
  const opening = headline(sentences[0]).toLowerCase();
  const titles = [title, headline(chosen.title)].map((t) => t.toLowerCase());
  if (sentences.length > 1 && titles.includes(opening)) sentences.shift();
  const said = sentences.filter((sentence) => !CONTEXT_SENTENCE.test(sentence));
  return quote((said.length > 0 ? said : sentences).join(' '), SUMMARY_QUOTE_MAX);
}

function summaryText(
  size: number,
  sources: readonly string[],
  terms: readonly string[],
  quoted: string | undefined,
  error: SentryDetails | undefined,
): string {
  const from = sources.length > 0 ? ` from ${listPhrase(sources.map(sourceName))}` : '';
  const about = terms.length > 0 ? ` mentioning ${listPhrase(terms.slice(0, 4))}` : '';
  const sentences = [`${plural(size, 'report')}${from}${about}.`];
  if (error?.frames[0]) sentences.push(`Raised in ${describeFrame(error.frames[0])}.`);
  if (quoted) sentences.push(`Representative report: "${quoted}".`);
  return sentences.join(' ');
}

/** Keeps quoted user text from becoming markup, HTML or @-mentions in a GitHub issue. */
function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/(^|[^\w`])@([A-Za-z0-9][A-Za-z0-9-]*)/g, '$1`@$2`')
    .replace(/^([#>+*=-]|\d+\.)/, '\\$1');
}

function issueDescription(parts: {
  summary: string;
  size: number;
  sample: readonly SampleItem[];
  terms: readonly string[];
  error: SentryDetails | undefined;
  repoUrl: string | undefined;
}): string {
  const { summary, size, sample, terms, error, repoUrl } = parts;
  const sections: string[] = [`## Summary\n\n${escapeMarkdown(summary)}`];

  const counts = new Map<string, number>();
  for (const item of sample) counts.set(item.source, (counts.get(item.source) ?? 0) + 1);
  const bySource = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([source, count]) => `- ${sourceName(source)}: ${count}`);
  const scope = sample.length < size ? `By source, in a sample of ${sample.length}:` : 'By source:';
  sections.push(
    `## Reports\n\n${plural(size, 'report')} in total.` +
      (bySource.length > 0 ? `\n\n${scope}\n\n${bySource.join('\n')}` : ''),
  );

  if (error && exceptionLine(error)) {
    const trace = [
      exceptionLine(error),
      ...error.frames.map((frame) => `  at ${describeFrame(frame)}`),
    ]
      .join('\n')
      .replace(/```/g, "'''");
    sections.push(`## Error\n\n\`\`\`text\n${trace}\n\`\`\``);
  }
  if (terms.length > 0) {
    sections.push(
      `## Distinctive terms\n\n${terms
        .slice(0, ISSUE_TERMS)
        .map((t) => `\`${t}\``)
        .join(', ')}`,
    );
  }
  const quotes = representativeQuotes(sample, ISSUE_QUOTES).map(
    (item) =>
      `> ${escapeMarkdown(quote(item.text, ISSUE_QUOTE_MAX))}\n> — ${sourceName(item.source)}`,
  );
  if (quotes.length > 0) sections.push(`## Representative reports\n\n${quotes.join('\n\n')}`);

  const links = [
    ...new Set(
      sample
        .map((item) => item.githubIssueUrl?.trim() ?? '')
        .filter((url) => GITHUB_ISSUE_URL.test(url)),
    ),
  ].slice(0, ISSUE_LINKS);
  if (links.length > 0) {
    sections.push(`## Linked GitHub issues\n\n${links.map((url) => `- ${url}`).join('\n')}`);
  }
  if (repoUrl) sections.push(`Repository: ${repoUrl}`);
  return sections.join('\n\n');
}

/**
 * Names and describes a cluster from its own words, with no model and no network: the title
 * is the most representative line that covers the cluster's distinctive terms, the issue
 * quotes the most representative reports. Deterministic, so re-summarising an unchanged
 * cluster changes nothing.
 */
export class ExtractiveSummarizer implements Summarizer {
  readonly name = 'extractive';

  async summarize(input: SummaryInput): Promise<ClusterSummary> {
    const sample = readSample(input);
    const declaredSize = Number(input?.size);
    const size =
      Number.isFinite(declaredSize) && declaredSize >= sample.length
        ? Math.floor(declaredSize)
        : sample.length;
    const declaredSources = Array.isArray(input?.sources)
      ? input.sources.filter((s): s is string => typeof s === 'string' && s.trim() !== '')
      : [];
    const sources = [
      ...new Set(
        (declaredSources.length > 0 ? declaredSources : sample.map((item) => item.source)).map(
          (s) => s.trim().toLowerCase(),
        ),
      ),
    ];
    const givenTerms = Array.isArray(input?.terms)
      ? input.terms.filter((t): t is string => typeof t === 'string' && t.trim() !== '')
      : [];
    const terms = givenTerms.length > 0 ? givenTerms : distinctiveTerms(sample.map((i) => i.text));

    const title = clusterTitle(sample, terms, size);
    const error = dominantSentryError(sample, sources);
    const quoted = summaryQuote(sample, title, error);
    const summary = summaryText(size, sources, terms, quoted, error);
    const githubRepoUrl = deriveGithubRepoUrl(sample);
    return {
      title,
      summary,
      issueTitle: issueTitle(title, error),
      issueDescription: issueDescription({
        summary,
        size,
        sample,
        terms,
        error,
        repoUrl: githubRepoUrl,
      }),
      ...(githubRepoUrl && { githubRepoUrl }),
    };
  }
}
