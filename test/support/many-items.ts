import { NewFeedback } from '../../src/feedback/feedback-writer';

/** `n` distinct items on three topics: enough of them keep a process busy for seconds. */
export function manyItems(n: number): NewFeedback[] {
  const topics = ['login fails after password reset', 'pdf export is blank', 'sync lost my edits'];
  return Array.from({ length: n }, (_, i) => ({
    source: 'manual',
    title: `${topics[i % topics.length]} case ${i} on device model ${i % 97}`,
  }));
}
