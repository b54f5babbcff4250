/** Where an item may name its GitHub repository; `SummaryItem` fits. */
export interface RepositoryHints {
  repo?: string;
  githubIssueUrl?: string;
  metadata?: unknown;
  title?: string;
  text?: string;
}

interface Repository {
  owner: string;
  name: string;
}

/* First path segments of github.com that are not users or organisations. */
const RESERVED_OWNERS = new Set([
  'about', 'apps', 'collections', 'contact', 'customer-stories', 'enterprise', 'explore',
  'features', 'login', 'marketplace', 'new', 'notifications', 'orgs', 'organizations',
  'pricing', 'pulls', 'issues', 'search', 'security', 'settings', 'site', 'sponsors', 'team',
  'topics', 'trending', 'users',
]); // prettier-ignore

const OWNER = String.raw`[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})`;
const NAME = String.raw`[A-Za-z0-9._-]{1,100}`;
const SHORT_FORM = new RegExp(`^(${OWNER})/(${NAME})$`);
/* github.com links, but not gist.github.com or api.github.com; also git@github.com:o/r. */
const LINK = new RegExp(
  String.raw`(?<![\w.-])(?:https?:\/\/)?(?:www\.)?github\.com[/:](${OWNER})\/(${NAME})`,
  'gi',
);
const MAX_TEXT_SCANNED = 20_000;

function repository(owner: string, rawName: string): Repository | undefined {
  const name = rawName.replace(/\.git$/i, '').replace(/\.+$/, '');
  if (!name || name === '.' || name === '..' || RESERVED_OWNERS.has(owner.toLowerCase())) {
    return undefined;
  }
  return { owner, name };
}

function linkedRepositories(text: string): Repository[] {
  const found: Repository[] = [];
  for (const match of text.slice(0, MAX_TEXT_SCANNED).matchAll(LINK)) {
    const repo = repository(match[1], match[2]);
    if (repo) found.push(repo);
  }
  return found;
}

/** Reads "owner/repo", a github.com URL or a git remote; undefined for anything else. */
export function parseGithubRepository(value: unknown): Repository | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  const short = SHORT_FORM.exec(trimmed);
  if (short) return repository(short[1], short[2]);
  return linkedRepositories(trimmed)[0];
}

function metadataRepository(metadata: unknown): Repository | undefined {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
    return undefined;
  const record = metadata as Record<string, unknown>;
  const declared = record.repository;
  const nested =
    declared !== null && typeof declared === 'object' ? (declared as Record<string, unknown>) : {};
  return [record.repo, declared, nested.full_name, nested.html_url]
    .map(parseGithubRepository)
    .find((repo) => repo !== undefined);
}

function uniqueUrl(repositories: readonly Repository[]): string | undefined {
  const byKey = new Map<string, Repository>();
  for (const repo of repositories) {
    const key = `${repo.owner}/${repo.name}`.toLowerCase();
    if (!byKey.has(key)) byKey.set(key, repo);
  }
  if (byKey.size !== 1) return undefined;
  const [only] = byKey.values();
  return `https://github.com/${only.owner}/${only.name}`;
}

/**
 * `https://github.com/{owner}/{repo}` when the items point at exactly one repository, else
 * undefined. Structured fields (`repo`, `githubIssueUrl`, metadata) are trusted first; links
 * in the text count only when no item has such a field, since a post may well link to some
 * other project's repository.
 */
export function deriveGithubRepoUrl(items: readonly RepositoryHints[]): string | undefined {
  const declared = items.flatMap((item) =>
    [
      parseGithubRepository(item.repo),
      parseGithubRepository(item.githubIssueUrl),
      metadataRepository(item.metadata),
    ].filter((repo) => repo !== undefined),
  );
  if (declared.length > 0) return uniqueUrl(declared);
  return uniqueUrl(
    items.flatMap((item) =>
      [item.title, item.text].flatMap((text) =>
        typeof text === 'string' ? linkedRepositories(text) : [],
      ),
    ),
  );
}
