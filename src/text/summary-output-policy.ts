import { parseGithubRepository } from './github-repo';
import { ClusterSummary, SummaryItem } from '../ports/summarizer.port';

/**
 * What a stored summary may contain, whichever summarizer wrote it. Feedback is written by
 * anyone, and a summary quotes or paraphrases it, so a link in the feedback ("make the title a
 * link to …") could reach the dashboard or a GitHub issue. Titles, summaries and issue titles
 * carry no links at all; an issue description links only what the items themselves vouch for.
 *
 * Every pattern is linear: no nested unbounded quantifiers, and each repetition is bounded.
 */

/**
 * Links with a scheme (`https://`, `javascript:`), `www.` hosts, host names followed by a path,
 * and bare host names under common link TLDs (not the domain of an e-mail address).
 */
const URL_LIKE =
  /\b(?:[a-z][a-z0-9+.-]{0,20}:\/\/|www\.)[^\s<>"'`()[\]]{1,2048}|\b(?:javascript|vbscript|data|mailto|file):[^\s<>"'`]{0,2048}|(?<![@\w.-])(?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24}\/[^\s<>"'`()[\]]{0,2048}|(?<![@\w.-])[a-z0-9-]{1,63}\.(?:com|net|org|io|co|dev|app|xyz|info|biz|me|ly|ru|cn|example|test|link|click|site|online|top)\b/gi;
/** `[text](target)` and `![alt](target)`; the text is kept, the link is not. */
const MARKDOWN_LINK = /!?\[([^[\]\n]{0,300})\]\(([^()\s]{0,2048})[^()\n]{0,300}\)/g;
/** `[text]: target` reference definitions. */
const MARKDOWN_REFERENCE = /^\s{0,3}\[[^[\]\n]{1,300}\]:[^\n]{0,2048}$/gm;
/** GitHub @-mentions (users, `org/team`); an e-mail address is preceded by a word character. */
const MENTION = /(^|[^\w@`/.])@([a-z0-9][a-z0-9-]{0,38}(?:\/[a-z0-9][a-z0-9_-]{0,99})?)/gi;
const LINK_REMOVED = '(link removed)';

/** Trailing punctuation belongs to the sentence, not the URL. */
function cleanUrl(url: string): string {
  return url.replace(/[.,;:!?]{1,20}$/, '');
}

function urlsIn(text: string): string[] {
  return [...text.matchAll(URL_LIKE)].map(([url]) => cleanUrl(url));
}

const GITHUB_ISSUE_URL =
  /^https:\/\/github\.com\/[\w.-]{1,100}\/[\w.-]{1,100}\/(?:issues|pull)\/\d{1,12}\/?$/;

/**
 * URLs an issue description may link: the items' own link fields (`github_issue_url`, `repo`)
 * and URLs that at least two distinct items contain (one author's say-so is not enough).
 */
export function allowedLinks(items: readonly SummaryItem[]): Set<string> {
  const allowed = new Set<string>();
  const seenBy = new Map<string, Set<string>>();
  for (const item of items) {
    const issueUrl = item.githubIssueUrl?.trim() ?? '';
    if (GITHUB_ISSUE_URL.test(issueUrl)) allowed.add(issueUrl.replace(/\/$/, ''));
    const repo = parseGithubRepository(item.repo);
    if (repo) allowed.add(`https://github.com/${repo.owner}/${repo.name}`);
    const text = [item.title, item.text, JSON.stringify(item.metadata ?? {})].join(' ');
    for (const url of new Set(urlsIn(text))) {
      const ids = seenBy.get(url) ?? new Set<string>();
      ids.add(item.id);
      seenBy.set(url, ids);
    }
  }
  for (const [url, ids] of seenBy) if (ids.size >= 2) allowed.add(url);
  return allowed;
}

function isAllowed(url: string, allowed: ReadonlySet<string>): boolean {
  return allowed.has(cleanUrl(url).replace(/\/$/, '')) || allowed.has(cleanUrl(url));
}

/** Why `value` breaks the policy for a plain field (title, summary, issue title), if it does. */
export function plainFieldProblem(value: string): string | undefined {
  if (MARKDOWN_LINK.test(value)) return 'contains a markdown link';
  const url = urlsIn(value)[0];
  if (url) return `contains a link (${url.slice(0, 80)})`;
  if (new RegExp(MENTION.source, 'i').test(value)) return 'contains an @-mention';
  return undefined;
}

/** Why an issue description breaks the policy, if it does: a link the items do not vouch for. */
export function descriptionProblem(
  value: string,
  allowed: ReadonlySet<string>,
): string | undefined {
  for (const [, , target] of value.matchAll(MARKDOWN_LINK)) {
    if (!isAllowed(target, allowed))
      return `links to ${target.slice(0, 80)}, which no item vouches for`;
  }
  for (const url of urlsIn(value)) {
    if (!isAllowed(url, allowed)) return `contains ${url.slice(0, 80)}, which no item vouches for`;
  }
  return undefined;
}

function tidy(text: string): string {
  return text
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/\(\s*\)|\[\s*\]/g, '')
    .trim();
}

/** A plain field with every link, markdown link and @-mention taken out (mentions keep the name). */
export function plainText(value: string, whenEmpty: string): string {
  const text = tidy(
    value
      .replace(MARKDOWN_LINK, (_, label: string) => label)
      .replace(URL_LIKE, '')
      .replace(MENTION, (_, before: string, name: string) => `${before}${name}`),
  );
  return text.length > 0 ? text : whenEmpty;
}

/**
 * An issue description keeping only vouched-for links; mentions are quoted so nobody is
 * pinged. Quoted feedback (`> ` lines) links nothing at all: it is the items' words, not a
 * link the issue offers, and an attacker can repeat a link in as many items as they like.
 */
export function safeDescription(value: string, allowed: ReadonlySet<string>): string {
  const none: ReadonlySet<string> = new Set();
  return value
    .replace(MARKDOWN_REFERENCE, '')
    .split('\n')
    .map((line) => keepLinks(line, /^\s{0,3}>/.test(line) ? none : allowed))
    .join('\n')
    .replace(MENTION, (_, before: string, name: string) => `${before}\`@${name}\``);
}

function keepLinks(line: string, allowed: ReadonlySet<string>): string {
  return line
    .replace(MARKDOWN_LINK, (link: string, label: string, target: string) =>
      isAllowed(target, allowed) ? link : label,
    )
    .replace(URL_LIKE, (url) => (isAllowed(url, allowed) ? url : LINK_REMOVED));
}

/**
 * An item as summarizers see it: its title and text without links or @-mentions, so neither
 * a quote nor a model can carry them into a summary. (Its own link fields stay: they are
 * what an issue may link.)
 */
export function withoutLinks(item: SummaryItem): SummaryItem {
  return { ...item, title: plainText(item.title, ''), text: plainText(item.text, '') };
}

/** The summary as it may be stored: the policy enforced on every field. */
export function enforceOutputPolicy(
  summary: ClusterSummary,
  items: readonly SummaryItem[],
): ClusterSummary {
  const allowed = allowedLinks(items);
  const title = plainText(summary.title, 'Feedback cluster');
  return {
    ...summary,
    title,
    summary: plainText(summary.summary, title),
    issueTitle: plainText(summary.issueTitle, title),
    issueDescription: safeDescription(summary.issueDescription, allowed),
    ...(summary.githubRepoUrl && isAllowed(summary.githubRepoUrl, allowed)
      ? { githubRepoUrl: summary.githubRepoUrl }
      : { githubRepoUrl: undefined }),
  };
}
