/** One feedback item as the producers write it (CONTRACT §1), parsed from its hash. */
export interface FeedbackItem {
  id: string;
  source: string;
  title: string;
  body: string;
  createdAt: string;
  externalId?: string;
  rawText?: string;
  /** Parsed `metadata`; `{}` when absent or not a JSON object. */
  metadata: Record<string, unknown>;
  repo?: string;
  githubIssueUrl?: string;
  githubIssueNumber?: string;
  status?: string;
  clustered: boolean;
  clusterId?: string;
}

/** Parses a `feedback:{id}` hash. Returns undefined when the hash is missing (empty). */
export function parseFeedbackHash(
  id: string,
  hash: Record<string, string>,
): FeedbackItem | undefined {
  if (Object.keys(hash).length === 0) return undefined;
  return {
    id,
    source: sourceOf(hash.source),
    title: hash.title ?? '',
    body: hash.body ?? '',
    createdAt: hash.created_at ?? '',
    externalId: hash.external_id,
    rawText: hash.raw_text,
    metadata: parseMetadata(hash.metadata),
    repo: hash.repo,
    githubIssueUrl: hash.github_issue_url,
    githubIssueNumber: hash.github_issue_number,
    status: hash.status,
    clustered: hash.clustered === 'true',
    clusterId: hash.cluster_id,
  };
}

/** The longest source name kept: a source is one word (CONTRACT §1), not a document. */
export const MAX_SOURCE_CHARS = 64;

/** Trimmed, lower-case, cut to MAX_SOURCE_CHARS; `move-items.lua` reads members' sources alike. */
function sourceOf(raw: string | undefined): string {
  const source = (raw ?? '').trim().slice(0, MAX_SOURCE_CHARS).trimEnd().toLowerCase();
  return source || 'unknown';
}

function parseMetadata(raw: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
