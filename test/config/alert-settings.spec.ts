import { ConfigurationError, loadEnvironment } from '../../src/config/environment';

const SECRET = 'a-webhook-secret-16+';

describe('alert settings', () => {
  it('sends no alerts by default and reads ALERT_SIZES as a list', () => {
    const env = loadEnvironment({});
    expect(env.WEBHOOK_URL).toBeUndefined();
    expect(env.ALERT_SIZES).toEqual([10, 50, 100]);
    expect(loadEnvironment({ ALERT_SIZES: ' 5, 20 ,200' }).ALERT_SIZES).toEqual([5, 20, 200]);
  });

  it('takes a webhook URL with its secret', () => {
    const env = loadEnvironment({
      WEBHOOK_URL: 'https://hooks.example.com/a',
      WEBHOOK_SECRET: SECRET,
    });
    expect(env.WEBHOOK_URL).toBe('https://hooks.example.com/a');
    expect(
      loadEnvironment({ WEBHOOK_URL: 'http://receiver:8080/x', WEBHOOK_SECRET: SECRET })
        .WEBHOOK_URL,
    ).toBe('http://receiver:8080/x');
  });

  it('refuses a URL without a secret, a short secret (never echoing it), a bad URL or list', () => {
    const refused = (env: Record<string, string>, pattern: RegExp) => {
      expect(() => loadEnvironment(env)).toThrow(ConfigurationError);
      expect(() => loadEnvironment(env)).toThrow(pattern);
    };
    refused({ WEBHOOK_URL: 'https://hooks.example.com/a' }, /WEBHOOK_SECRET: must be set/);
    refused({ WEBHOOK_SECRET: 'short-secret' }, /WEBHOOK_SECRET/);
    expect(() => loadEnvironment({ WEBHOOK_SECRET: 'short-secret' })).not.toThrow(/short-secret/);
    refused({ WEBHOOK_URL: 'ftp://example.com/a', WEBHOOK_SECRET: SECRET }, /WEBHOOK_URL/);
    refused({ ALERT_SIZES: '10,fifty' }, /ALERT_SIZES/);
    refused({ ALERT_SIZES: '0,10' }, /ALERT_SIZES/);
  });
});
