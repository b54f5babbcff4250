import { FeedbackItem } from '../../src/feedback/feedback-item';
import { prepareText, PreparedText, readableText } from '../../src/text/prepare-text';
import { feedbackItem } from '../support/feedback-item';

const item = feedbackItem;

function textOf(prepared: PreparedText): string {
  if (!prepared.ok) throw new Error(`not prepared: ${prepared.reason}`);
  return prepared.text;
}

const frames = [
  { function: 'dispatch', filename: 'node_modules/react-dom/index.js', in_app: false },
  { function: 'handleClick', module: 'src/button', in_app: true },
  { function: 'submitOrder', module: 'src/checkout', in_app: true },
  { function: 'flush', filename: 'node_modules/scheduler/index.js', in_app: false },
];

function sentryEvent(user: string, address: string, at: string, session: string): FeedbackItem {
  const trace = Array.from({ length: 200 }, (_, i) => `    at frame${i} (lib/index.js:${i}:1)`);
  return item({
    source: 'sentry',
    title: "TypeError: Cannot read properties of undefined (reading 'id')",
    body: [
      "TypeError: Cannot read properties of undefined (reading 'id')",
      ...trace,
      `user ${user} at ${at}, pointer ${address}, page https://shop.example.com/checkout?session=${session}#pay`,
    ].join('\n'),
    metadata: {
      exception: {
        values: [
          {
            type: 'TypeError',
            value: "Cannot read properties of undefined (reading 'id')",
            stacktrace: { frames },
          },
        ],
      },
    },
  });
}

describe('prepareText', () => {
  it('prepares two Sentry events of the same error from different users to the same text', () => {
    const first = sentryEvent(
      '3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b',
      '0x7ffe5a3b2c10',
      '2024-05-01T10:22:03Z',
      'a1',
    );
    const second = sentryEvent(
      '11111111-2222-4333-8444-555555555555',
      '0x7ffd00000001',
      '2024-06-11T23:01:59.120+02:00',
      'zz9',
    );
    const text = textOf(prepareText(first, 4000));
    expect(textOf(prepareText(second, 4000))).toBe(text);
    expect(text).toContain("TypeError: Cannot read properties of undefined (reading 'id')");
    expect(text).toContain('https://shop.example.com/checkout');
    expect(text).not.toMatch(/session|3f2a9c1e|0x7ff/);
  });

  it('keeps the message and the innermost in-app frames of a Sentry event, not the whole trace', () => {
    const text = textOf(prepareText(sentryEvent('u', '0x1', '2024-05-01T10:22:03Z', 's'), 4000));
    expect(text).toContain('at submitOrder (src/checkout), handleClick (src/button)');
    expect(text).not.toContain('dispatch');
    expect(text).not.toContain('frame199');
    expect(text.length).toBeLessThan(400);
  });

  it('keeps three frames of a raw trace when metadata has none', () => {
    const body = [
      'Error: boom',
      ...Array.from({ length: 50 }, (_, i) => `    at fn${i} (src/app.js:${i}:1)`),
    ].join('\n');
    const text = textOf(prepareText(item({ source: 'sentry', body }), 4000));
    expect(text).toContain('fn0');
    expect(text).toContain('fn2');
    expect(text).not.toContain('fn3');
  });

  it('puts the message of a Python traceback first and keeps its innermost frames', () => {
    const body = [
      'Traceback (most recent call last):',
      '  File "/app/api/views.py", line 10, in handler',
      '    result = checkout(order)',
      '  File "/app/api/checkout.py", line 55, in checkout',
      "    return order['id']",
      "KeyError: 'id'",
    ].join('\n');
    const text = textOf(prepareText(item({ source: 'sentry', body }), 4000));
    expect(text).toMatch(/^KeyError: 'id'/);
    expect(text).toContain('checkout.py');
    expect(text).not.toContain('result = checkout');
  });

  it('reads the flat Sentry metadata shapes too', () => {
    const text = textOf(
      prepareText(
        item({
          source: 'sentry',
          title: 'Checkout crashed',
          metadata: {
            exception_type: 'KeyError',
            message: "'id'",
            frames: [{ function: 'checkout', module: 'app.checkout', in_app: true }],
          },
        }),
        4000,
      ),
    );
    expect(text).toBe("Checkout crashed. KeyError: 'id'. at checkout (app.checkout)");
  });

  it('adds the subreddit of a Reddit post and the labels of a GitHub issue', () => {
    expect(
      textOf(
        prepareText(
          item({ source: 'reddit', title: 'Login broken', metadata: { subreddit: 'acmeapp' } }),
          4000,
        ),
      ),
    ).toBe('Login broken. r/acmeapp');
    expect(
      textOf(
        prepareText(
          item({
            source: 'github',
            title: 'Login broken',
            metadata: { labels: [{ name: 'bug' }, 'auth'] },
          }),
          4000,
        ),
      ),
    ).toBe('Login broken. labels: bug, auth');
  });

  it.each([
    ['a string', 'not json'],
    ['an array', ['a', 1, null]],
    ['garbage', { exception: 42, frames: 'x', labels: { a: 1 }, subreddit: ['x'] }],
    ['null', null],
  ])('tolerates metadata that is %s', (_kind, metadata) => {
    for (const source of ['sentry', 'reddit', 'github']) {
      const prepared = prepareText(
        item({ source, title: 'Login broken', metadata: metadata as never }),
        4000,
      );
      expect(prepared).toEqual({ ok: true, text: 'Login broken' });
    }
  });

  it('removes Markdown and HTML but keeps the words and link targets', () => {
    const body = [
      '## Steps',
      '1. Open **settings**',
      '2. Click [Export](https://example.com/export?id=7)',
      '<p>Then it <b>fails</b> &amp; shows `E42`</p>',
      '```',
      'const x = 1;',
      '```',
    ].join('\n');
    expect(textOf(prepareText(item({ body }), 4000))).toBe(
      'Steps Open settings Click Export (https://example.com/export) Then it fails & shows E42 const x = <num>;',
    );
  });

  it('bounds a 2 MB body quickly, cutting on a word boundary', () => {
    const body = 'the export button does nothing '.repeat(70_000);
    const started = performance.now();
    const text = textOf(prepareText(item({ title: 'Export', body }), 500));
    expect(performance.now() - started).toBeLessThan(200);
    expect(text.length).toBeLessThanOrEqual(500);
    expect(text).toMatch(/ (the|export|button|does|nothing)$/);
  });

  it('bounds a 2 MB body without spaces quickly', () => {
    const started = performance.now();
    const text = textOf(
      prepareText(item({ source: 'sentry', title: 'x', body: 'ab1'.repeat(700_000) }), 1000),
    );
    expect(performance.now() - started).toBeLessThan(200);
    expect(text.length).toBeLessThanOrEqual(1000);
  });

  it('refuses an item with no text', () => {
    expect(prepareText(item({ title: ' ', body: '\n\t ' }), 4000)).toEqual({
      ok: false,
      reason: 'empty text',
    });
  });

  it('keeps numbers, punctuation and emoji as content when the item says nothing else', () => {
    expect(textOf(prepareText(item({ body: '10-4' }), 4000))).toBe('10-4');
    expect(textOf(prepareText(item({ title: '10/10' }), 4000))).toBe('10/10');
    expect(
      textOf(prepareText(item({ body: '3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b 42' }), 4000)),
    ).toBe('<uuid> 42');
    expect(textOf(prepareText(item({ title: '👍👍👍' }), 4000))).toBe('👍👍👍');
    expect(textOf(prepareText(item({ title: '???' }), 4000))).toBe('???');
    expect(textOf(prepareText(item({ body: '\u200b-----\u0000' }), 4000))).toBe('-----');
    // Words keep the usual normalisation.
    expect(textOf(prepareText(item({ title: 'Android 14' }), 4000))).toBe('Android <num>');
  });

  it('refuses an item with no visible character', () => {
    const prepared = prepareText(
      item({ title: '\u200b\u200d', body: '\u0000\ufeff \u3164\n' }),
      4000,
    );
    expect(prepared).toEqual({ ok: false, reason: 'no visible text' });
  });

  it('gives people the text as written: markup removed, nothing normalised', () => {
    const written = item({
      title: 'App crashes on **Android 14**',
      body: 'Since 2024-05-01 10:22, see <b>bob@example.com</b>',
    });
    expect(readableText(written, 4000)).toBe(
      'App crashes on Android 14. Since 2024-05-01 10:22, see bob@example.com',
    );
    expect(readableText(item({ title: '👍👍' }), 4000)).toBe('👍👍');
    expect(readableText(item({ title: 'x'.repeat(50) }), 20)).toHaveLength(20);
  });

  it('does not let context alone make an empty post readable', () => {
    const prepared = prepareText(
      item({ source: 'reddit', metadata: { subreddit: 'acmeapp' } }),
      4000,
    );
    expect(prepared.ok).toBe(false);
  });

  it('keeps text in any language', () => {
    const title = 'ログインできない';
    const body = 'Пароль сброшен, но вход не работает. La connexion échoue. 密码重置后无法登录。';
    expect(textOf(prepareText(item({ title, body }), 4000))).toBe(`${title}. ${body}`);
  });

  it('cuts text without spaces hard, never in the middle of an emoji', () => {
    expect(textOf(prepareText(item({ title: `密${'😀'.repeat(30)}` }), 4))).toBe('密😀');
    expect(textOf(prepareText(item({ title: '密码重置后无法登录' }), 4))).toBe('密码重置');
  });
});
