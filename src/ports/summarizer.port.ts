import { ReadinessCheck } from './provider-readiness';
/** An item of a cluster, as the summarizer sees it. */
export interface SummaryItem {
  id: string;
  source: string;
  title: string;
  /** What the item says as its author wrote it (markup removed, bounded, not normalised). */
  text: string;
  metadata: Record<string, unknown>;
  repo?: string;
  githubIssueUrl?: string;
  /** Cosine similarity to the cluster centroid; higher is more representative. */
  similarity: number;
}

export interface SummaryInput {
  clusterId: string;
  size: number;
  sources: string[];
  /** A bounded sample of the members, most representative first. */
  items: SummaryItem[];
  /** Terms that set this cluster apart from the rest of the feedback, most distinctive first. */
  terms: string[];
  /**
   * URLs an issue description may link (the items' link fields, URLs two items contain); the
   * items' own text comes without links.
   */
  links?: string[];
}

export interface ClusterSummary {
  title: string;
  summary: string;
  issueTitle: string;
  issueDescription: string;
  /** `https://github.com/{owner}/{repo}` when the items point at one repository. */
  githubRepoUrl?: string;
  /** The summarizer that wrote this text, when not the one asked (a fallback); stored as `summary_model`. */
  writtenBy?: string;
}

/** Port: names and describes a cluster. Adapters: extractive (default), Gemini. */
export interface Summarizer extends ReadinessCheck {
  readonly name: string;
  summarize(input: SummaryInput): Promise<ClusterSummary>;
}

export const SUMMARIZER = Symbol('Summarizer');
