import { ConfigurationError, loadEnvironment } from '../../src/config/environment';

describe('KEY_LAYOUT', () => {
  it('defaults to the flat layout of CONTRACT §1-§2', () => {
    expect(loadEnvironment({}).KEY_LAYOUT).toBe('flat');
  });

  it('refuses to start with a layout this version does not serve, naming the variable', () => {
    for (const layout of ['project', 'tenant']) {
      expect(() => loadEnvironment({ KEY_LAYOUT: layout })).toThrow(ConfigurationError);
      expect(() => loadEnvironment({ KEY_LAYOUT: layout })).toThrow(/KEY_LAYOUT/);
    }
  });
});
