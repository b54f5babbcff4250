import { normalizeVolatile } from '../../src/text/normalize-volatile';

describe('normalizeVolatile', () => {
  it.each([
    ['user 3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b not found', 'user <uuid> not found'],
    ['segfault at 0x7ffe5a3b2c10', 'segfault at <hex>'],
    ['bundle main.9f86d081884c.js failed', 'bundle main.<hex>.js failed'],
    ['key sk_live_4eC39HqLyjWDarjtT1zdp7dc leaked', 'key <id> leaked'],
    ['at 2024-05-01T10:22:03.120+02:00', 'at <time>'],
    ['on 2024-05-01 and 05/01/2024 and May 1, 2024', 'on <time> and <time> and <time>'],
    ['happened at 10:32 pm', 'happened at <time>'],
    ['write to jane.doe+test@example.co.uk now', 'write to <email> now'],
    ['from 192.168.1.20 and fe80::1ff:fe23:4567:890a', 'from <ip> and <ip>'],
    ['https://shop.example.com/cart?session=abc&x=1#step2', 'https://shop.example.com/cart'],
    [
      'took 1532ms, retried 3 times, 2nd attempt',
      'took <num>ms, retried <num> times, <num>nd attempt',
    ],
  ])('%s', (input, expected) => {
    expect(normalizeVolatile(input)).toBe(expected);
  });

  it('keeps line and column of a frame as numbers, not as a time', () => {
    expect(normalizeVolatile('at submit (checkout.js:42:17)')).toBe(
      'at submit (checkout.js:<num>:<num>)',
    );
  });

  it('leaves words that contain digits, code and hex-looking words alone', () => {
    const text = 'v2 h264 handle_checkout_submit_v2 Map<String, Object> deadbeef';
    expect(normalizeVolatile(text)).toBe(text);
  });

  it('replaces numbers inside Chinese and Japanese text, which has no spaces', () => {
    expect(normalizeVolatile('エラー404が発生 错误500了')).toBe('エラー<num>が発生 错误<num>了');
  });

  it('keeps numbers when asked, for titles', () => {
    expect(normalizeVolatile('Error 500 for bob@example.com', { keepNumbers: true })).toBe(
      'Error 500 for <email>',
    );
  });

  it('is idempotent', () => {
    const once = normalizeVolatile(
      'id 3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b at 10:22 from 10.0.0.1',
    );
    expect(normalizeVolatile(once)).toBe(once);
  });

  it('stays linear on long adversarial runs', () => {
    const text = `${'a'.repeat(20_000)} ${'1.'.repeat(10_000)} http://${'x'.repeat(10_000)} ${'a-'.repeat(10_000)}é`;
    const started = performance.now();
    normalizeVolatile(text);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
