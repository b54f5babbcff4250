import { FeedbackItem } from '../../src/feedback/feedback-item';

/** A parsed feedback item (as the pipeline reads it) with these fields, defaults elsewhere. */
export function feedbackItem(fields: Partial<FeedbackItem>): FeedbackItem {
  return {
    id: 'f1',
    source: 'manual',
    title: '',
    body: '',
    createdAt: '2024-05-01T10:00:00Z',
    metadata: {},
    clustered: false,
    ...fields,
  };
}
