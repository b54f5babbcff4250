import { join } from 'node:path';
import { freshBuildOr, REPO_ROOT } from '../../scripts/lib/built-service';
import { runChaos } from '../../scripts/lib/chaos-run';
import { redisUrl } from '../support/test-redis';

const DB = 3;

describe('npm run chaos, at a small size', () => {
  it('loses nothing and doubles nothing while replicas are killed during items and updates', async () => {
    const report = await runChaos({
      redisUrl: redisUrl(DB),
      // dist/main.js when the build is fresh (CI builds first), else a private compile.
      mainPath: freshBuildOr(join(REPO_ROOT, '.chaos', 'dist')),
      replicas: 3,
      items: 240,
      updates: 30,
      rate: 40,
      killEveryMs: 1500,
      settleTimeoutMs: 30_000,
      log: () => undefined,
    });

    expect(report.kills).toBeGreaterThan(0);
    expect(report.updates).toBe(30);
    expect(report).toMatchObject({
      items: 240,
      lost: 0,
      waiting: 0,
      in_two_clusters: 0,
      size_mismatches: 0,
      centroid_mismatches: 0,
      unfinished_jobs: 0,
      final_sweep: 'succeeded',
      violations: [],
    });
  }, 120_000);
});
