import { ConfigurationError, loadEnvironment } from '../../src/config/environment';

describe('KEY_LAYOUT', () => {
  it('defaults to the flat layout of CONTRACT §1-§2', () => {
    expect(loadEnvironment({}).KEY_LAYOUT).toBe('flat');
  });

  it('takes the project layout of CONTRACT §7', () => {
    expect(loadEnvironment({ KEY_LAYOUT: 'project' }).KEY_LAYOUT).toBe('project');
  });

  it('needs the project of a one-shot job in the project layout', () => {
    const job = { CLUSTER_JOB_ID: '5b0c6f7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f', KEY_LAYOUT: 'project' };
    expect(() => loadEnvironment(job)).toThrow(/CLUSTER_JOB_PROJECT_ID/);
    expect(
      loadEnvironment({ ...job, CLUSTER_JOB_PROJECT_ID: 'clx0project' }).CLUSTER_JOB_PROJECT_ID,
    ).toBe('clx0project');
  });

  it('refuses an unknown layout, naming the variable', () => {
    for (const layout of ['tenant', 'Project']) {
      expect(() => loadEnvironment({ KEY_LAYOUT: layout })).toThrow(ConfigurationError);
      expect(() => loadEnvironment({ KEY_LAYOUT: layout })).toThrow(/KEY_LAYOUT/);
    }
  });
});
