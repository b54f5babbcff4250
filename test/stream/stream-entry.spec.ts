import { compareStreamIds, feedbackIdOf, toStreamEntry } from '../../src/stream/stream-entry';

describe('stream entries', () => {
  it('reads the feedback id an event announces', () => {
    const entry = toStreamEntry(['1-0', ['type', 'feedback.created', 'id', 'abc-123', 'ts', '1']]);
    expect(feedbackIdOf(entry)).toEqual({ id: 'abc-123' });
  });

  it('says why an event is unusable', () => {
    expect(feedbackIdOf(toStreamEntry(['1-0', ['type', 'feedback.created']]))).toEqual({
      reason: 'event has no id field',
    });
    expect(feedbackIdOf(toStreamEntry(['1-0', ['id', 'feedback:x y']]))).toEqual({
      reason: 'event id is not a valid feedback id',
    });
    expect(feedbackIdOf(toStreamEntry(['1-0', null]))).toEqual({ reason: 'event has no id field' });
  });

  it('orders stream ids numerically, not as text', () => {
    expect(compareStreamIds('999-0', '1000-0')).toBe(-1);
    expect(compareStreamIds('1000-10', '1000-9')).toBe(1);
    expect(compareStreamIds('5-1', '5-1')).toBe(0);
  });
});
