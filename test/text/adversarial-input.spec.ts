import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { adversarialStrings } from '../support/adversarial-text';
import { BUDGET_MS, SlowCalls, TEXT_PROCESSORS } from './text-processors';

const REPO_ROOT = resolve(__dirname, '../..');

/*
 * Timed in a fresh process: after the other specs of a run, this one's heap is large and a
 * garbage collection inside a timed call says nothing about the call.
 */
function timeInFreshProcess(): SlowCalls {
  const run = spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'test/text/text-processors.ts'],
    { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 16 << 20 },
  );
  if (run.status !== 0) throw new Error(`timing run failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as SlowCalls;
}

describe('text processing on adversarial input', () => {
  const corpus = adversarialStrings(16 * 1024);
  let slow: SlowCalls;

  beforeAll(() => {
    slow = timeInFreshProcess();
  }, 600_000);

  it('covers every punctuation character and the other hostile shapes, each 16 kB', () => {
    expect(corpus.length).toBeGreaterThan(200);
    for (const { text } of corpus.filter((s) => !s.name.includes('table rule'))) {
      expect(text.length).toBeGreaterThan(16 * 1024 - 8);
      expect(text.length).toBeLessThanOrEqual(16 * 1024);
    }
  });

  it.each(Object.keys(TEXT_PROCESSORS))(
    `%s takes at most ${BUDGET_MS} ms of CPU on each string`,
    (name) => {
      expect(slow[name]).toEqual([]);
    },
  );
});
