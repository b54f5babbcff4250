import { ConfigurationError, loadEnvironment } from '../../src/config/environment';

describe('KEY_LAYOUT', () => {
  it('defaults to the flat layout of CONTRACT §1-§2', () => {
    expect(loadEnvironment({}).KEY_LAYOUT).toBe('flat');
  });

  it('takes the project layout of CONTRACT §7', () => {
    expect(loadEnvironment({ KEY_LAYOUT: 'project' }).KEY_LAYOUT).toBe('project');
  });

  it('refuses an unknown layout, naming the variable', () => {
    for (const layout of ['tenant', 'Project']) {
      expect(() => loadEnvironment({ KEY_LAYOUT: layout })).toThrow(ConfigurationError);
      expect(() => loadEnvironment({ KEY_LAYOUT: layout })).toThrow(/KEY_LAYOUT/);
    }
  });
});
