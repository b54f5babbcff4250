import { createHmac } from 'node:crypto';
import {
  retryDelayMs,
  signatureOf,
  sizesReached,
  verifySignature,
} from '../../src/alerts/alert-math';

describe('alert math', () => {
  it('signs the raw body with HMAC-SHA256 as a receiver recomputes it', () => {
    const body = '{"id":"c1:size:10"}';
    const hex = createHmac('sha256', 'a-secret-of-16-chars').update(body).digest('hex');
    expect(signatureOf('a-secret-of-16-chars', body)).toBe(`sha256=${hex}`);
    expect(verifySignature('a-secret-of-16-chars', body, `sha256=${hex}`)).toBe(true);
    expect(verifySignature('another-secret-16ch', body, `sha256=${hex}`)).toBe(false);
    expect(verifySignature('a-secret-of-16-chars', `${body} `, `sha256=${hex}`)).toBe(false);
    expect(verifySignature('a-secret-of-16-chars', body, 'sha256=short')).toBe(false);
  });

  it('doubles the pause after each failure, up to an hour', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 5000))).toEqual([5000, 10000, 20000, 40000]);
    expect(retryDelayMs(30, 5000)).toBe(3_600_000);
  });

  it('lists each configured size a cluster has reached, once, smallest first', () => {
    expect(sizesReached(60, [100, 10, 50, 10])).toEqual([10, 50]);
    expect(sizesReached(9, [10, 50])).toEqual([]);
    expect(sizesReached(10, [10])).toEqual([10]);
  });
});
