import { distinctiveTerms, TermStatistics } from '../../src/text/distinctive-terms';
import { termsOf } from '../../src/text/terms';

const loginCluster = [
  "Can't log in after password reset. Every login says 'invalid token'.",
  'Login broken: invalid token after a password reset on iOS <num>',
  'password reset done, login fails with invalid token since <time>',
  'After the password reset the app shows invalid token at login',
];

const otherFeedback = [
  'The app is slow when loading my orders',
  'Dark mode please, the app is too bright at night',
  'App crashes when uploading a photo from the gallery',
  'Export to CSV from the dashboard fails',
  'Love the new app design',
  'Notifications arrive late on Android',
  'Search in the app does not find my old orders',
  'Checkout page of the app shows the wrong currency',
];

describe('termsOf', () => {
  it('drops stopwords, numbers and placeholders, and pairs only adjacent words', () => {
    const { unigrams, bigrams } = termsOf(
      'Reset the password <num> times; invalid token 42 at <time>',
    );
    expect([...unigrams].sort()).toEqual(['invalid', 'password', 'reset', 'times', 'token']);
    expect([...bigrams]).toEqual(['invalid token']);
  });

  it('does not pair words across punctuation such as a path or a sentence end', () => {
    expect([...termsOf('at submitOrder (src/checkout.js). user').bigrams]).toEqual([]);
  });

  it('tokenises any script, and splits Chinese and Japanese into character pairs', () => {
    expect([...termsOf('Пароль сброшен').unigrams]).toEqual(['пароль', 'сброшен']);
    expect([...termsOf('登录失败').unigrams]).toEqual(['登录', '录失', '失败']);
  });
});

describe('TermStatistics', () => {
  it('counts in how many observed texts a term occurs, once per text', () => {
    const stats = new TermStatistics();
    stats.observe(['app app crash', 'the app is slow', 'slow login']);
    expect(stats.documents).toBe(3);
    expect(stats.documentFrequency('app')).toBe(2);
    expect(stats.documentFrequency('slow login')).toBe(1);
    expect(stats.documentFrequency('the')).toBe(0);
  });

  it('forgets the rarest terms once it holds too many', () => {
    const stats = new TermStatistics(10);
    stats.observe(Array.from({ length: 5 }, () => 'export fails'));
    stats.observe(Array.from({ length: 20 }, (_, i) => `word${i}x`));
    expect(stats.documentFrequency('export')).toBe(5);
    expect(stats.documentFrequency('word3x')).toBe(0);
  });
});

describe('distinctiveTerms', () => {
  it('names what the cluster is about, with strong pairs as pairs', () => {
    const terms = distinctiveTerms(loginCluster);
    expect(terms.slice(0, 3).sort()).toEqual(['invalid token', 'login', 'password reset']);
    expect(terms).not.toContain('invalid');
    expect(terms).not.toContain('reset');
  });

  it('down-weights words common across all feedback', () => {
    const withApp = loginCluster.map((t) => `${t} in the app`);
    expect(distinctiveTerms(withApp)).toContain('app');
    const stats = new TermStatistics();
    stats.observe([...otherFeedback, ...withApp]);
    const terms = distinctiveTerms(withApp, stats, 3);
    expect(terms).not.toContain('app');
    expect(terms).toHaveLength(3);
  });

  it('ignores words from a single report of a larger sample', () => {
    expect(distinctiveTerms(loginCluster)).not.toContain('ios');
  });

  it('returns nothing for no texts or texts without words', () => {
    expect(distinctiveTerms([])).toEqual([]);
    expect(distinctiveTerms(['<num> <uuid>', '...'])).toEqual([]);
  });

  it('is deterministic', () => {
    expect(distinctiveTerms([...loginCluster].reverse())).toEqual(distinctiveTerms(loginCluster));
  });
});
