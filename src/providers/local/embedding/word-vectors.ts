import { closeSync, openSync, readSync } from 'node:fs';

/** A word-vector table; words are in the source's frequency order (index 0 most frequent). */
export interface WordVectors {
  dimensions: number;
  /** word -> row. */
  rows: Map<string, number>;
  /** Row-major, `rows.size * dimensions` floats. */
  vectors: Float32Array;
}

const CHUNK_BYTES = 8 << 20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Reads the first `maxWords` (most frequent) words of a wink-embeddings JSON file:
 * `{"dimensions":D, "words":[...], "vectors":{"word":[v1..vD, l2norm, wordIndex], ...}, ...}`
 * with vectors in word order. The file is ~300 MB for 341k words; JSON.parse of all of it
 * would need over a gigabyte, so it is scanned in chunks and the scan stops once the rows
 * wanted are read.
 */
export function loadWinkWordVectors(path: string, maxWords: number): WordVectors {
  const reader = new ChunkReader(path);
  try {
    const dimensions = Number(reader.readUntil('"words":').match(/"dimensions":(\d+)/)?.[1]);
    if (!Number.isInteger(dimensions) || dimensions <= 0) {
      throw new Error(`${path}: no "dimensions" before "words"`);
    }
    const words = JSON.parse(reader.readUntil(',"vectors":{').slice(0, -12)) as string[];
    const wanted = Math.min(maxWords, words.length);
    const rows = new Map<string, number>();
    const vectors = new Float32Array(wanted * dimensions);
    // Each entry carries the word's vector, its l2 norm and its index in `words`.
    const entry = new Float64Array(dimensions + 2);
    while (rows.size < wanted) {
      reader.skipJsonKey();
      reader.expect(0x5b); // [
      for (let i = 0; i < entry.length; i++) {
        entry[i] = reader.readNumber();
        reader.expect(i === entry.length - 1 ? 0x5d : 0x2c); // ] or ,
      }
      const wordIndex = entry[dimensions + 1];
      if (wordIndex < wanted) {
        const row = rows.size;
        rows.set(words[wordIndex], row);
        for (let d = 0; d < dimensions; d++) vectors[row * dimensions + d] = entry[d];
      }
      if (reader.next() === 0x7d) break; // } ends the vectors
    }
    return { dimensions, rows, vectors: vectors.subarray(0, rows.size * dimensions) };
  } finally {
    reader.close();
  }
}

/** Forward-only byte reader over a file, a chunk at a time. */
class ChunkReader {
  private readonly fd: number;
  private buffer = Buffer.alloc(0);
  private position = 0;

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'r');
  }

  close(): void {
    closeSync(this.fd);
  }

  next(): number {
    if (this.position >= this.buffer.length && !this.fill()) {
      throw new Error(`${this.path}: unexpected end of file`);
    }
    return this.buffer[this.position++];
  }

  expect(byte: number): void {
    const found = this.next();
    if (found !== byte) {
      throw new Error(
        `${this.path}: expected '${String.fromCharCode(byte)}', found '${String.fromCharCode(found)}'`,
      );
    }
  }

  /** Text up to and including `marker`. */
  readUntil(marker: string): string {
    const pieces: Buffer[] = [];
    for (;;) {
      const at = this.buffer.indexOf(marker, this.position);
      if (at >= 0) {
        pieces.push(this.buffer.subarray(this.position, at + marker.length));
        this.position = at + marker.length;
        return Buffer.concat(pieces).toString('utf8');
      }
      // Keep the tail that could hold the start of a marker split across chunks.
      const keep = Math.max(this.position, this.buffer.length - marker.length);
      pieces.push(this.buffer.subarray(this.position, keep));
      this.position = keep;
      if (!this.fill()) throw new Error(`${this.path}: "${marker}" not found`);
    }
  }

  /** Skips `"key":`, honouring escaped quotes inside the key. */
  skipJsonKey(): void {
    this.expect(QUOTE);
    for (let byte = this.next(); byte !== QUOTE; byte = this.next()) {
      if (byte === BACKSLASH) this.next();
    }
    this.expect(0x3a); // :
  }

  /** A JSON number; leaves the byte after it unread. */
  readNumber(): number {
    let text = '';
    for (;;) {
      if (this.position >= this.buffer.length && !this.fill()) break;
      const byte = this.buffer[this.position];
      const isNumberByte =
        (byte >= 0x30 && byte <= 0x39) ||
        byte === 0x2d ||
        byte === 0x2e ||
        byte === 0x2b ||
        byte === 0x65 ||
        byte === 0x45;
      if (!isNumberByte) break;
      text += String.fromCharCode(byte);
      this.position++;
    }
    const value = Number(text);
    if (text === '' || Number.isNaN(value)) throw new Error(`${this.path}: bad number '${text}'`);
    return value;
  }

  /** Replaces the consumed part of the buffer with the next chunk; false at end of file. */
  private fill(): boolean {
    const rest = this.buffer.subarray(this.position);
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const read = readSync(this.fd, chunk, 0, CHUNK_BYTES, null);
    if (read === 0) return false;
    this.buffer = Buffer.concat([rest, chunk.subarray(0, read)]);
    this.position = 0;
    return true;
  }
}
