import { Keyspace, SharedKeys } from './keyspace';

/*
 * The flat layout's keys (CONTRACT §1-§2) as plain constants, for tests, benchmarks and tools
 * that address that layout directly. They are read off `Keyspace.flat()`: every name is built
 * in `keyspace.ts`. Service code takes its `Keyspace` by injection instead (ESLint forbids
 * this module under src/), so the same code serves the project layout.
 */
const flat = Keyspace.flat();

export const FeedbackKeys = { ...flat.feedback, events: SharedKeys.events } as const;
export const ClusterKeys = flat.clusters;
export const JobKeys = flat.jobs;
export const ServiceKeys = {
  ...flat.service,
  deadLetters: SharedKeys.deadLetters,
  streamItemFailures: SharedKeys.streamItemFailures,
  summaryTokens: SharedKeys.summaryTokens,
} as const;
export const RetiredServiceKeys = flat.retired;
