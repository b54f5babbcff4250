import {
  decodeVectorRecord,
  encodeInt8Record,
  encodePackedRecord,
} from '../../src/item-vectors/vector-record';
import { cosine, dot, normalize } from '../../src/math/vector-math';
import { ShiftedSemanticEmbeddings } from '../stand-ins/shifted-embeddings';
import { LocalEmbedder } from '../../src/providers/local/local-embedder';
import { seededUnitVector } from '../support/cluster-state-fixtures';

const randomUnit = (dimensions: number, seed: number) => seededUnitVector(seed, dimensions);

describe('vector records', () => {
  it('keep a 768-d vector in 777 bytes, within 0.9999 cosine of the original', () => {
    const vector = randomUnit(768, 7);
    const record = encodeInt8Record(vector, 'gemini-embedding-001@768');
    expect(record.length).toBe(777);
    const back = decodeVectorRecord(record, 'gemini-embedding-001@768')!;
    expect(back).toHaveLength(768);
    expect(cosine(back, vector)).toBeGreaterThan(0.9999);
  });

  it('keep the similarities between real local-embedder vectors to within 0.005', async () => {
    const texts = [
      'My card has not arrived yet',
      'Where is my new card?',
      'How do I reset my PIN?',
      'The app crashes when I open settings',
    ];
    const vectors = (await new LocalEmbedder().embed(texts)).map((o) => {
      if (!o.ok) throw new Error(o.reason);
      return o.vector;
    });
    const decoded = vectors.map((v) =>
      decodeVectorRecord(encodeInt8Record(v, 'local-v3'), 'local-v3')!,
    );
    for (let a = 0; a < vectors.length; a++) {
      for (let b = a + 1; b < vectors.length; b++) {
        expect(Math.abs(dot(decoded[a], decoded[b]) - dot(vectors[a], vectors[b]))).toBeLessThan(
          0.005,
        );
      }
    }
  });

  it('keep a 768-d vector in 588 bytes at 6 bits, within 0.999 cosine of the original', () => {
    const vector = randomUnit(768, 11);
    const record = encodePackedRecord(vector, 'gemini-embedding-001@768', 6);
    expect(record.length).toBe(588);
    const back = decodeVectorRecord(record, 'gemini-embedding-001@768')!;
    expect(back).toHaveLength(768);
    expect(cosine(back, vector)).toBeGreaterThan(0.999);
  });

  it('round-trip every code width and a dimension count that does not fill the last byte', () => {
    for (const bits of [2, 3, 5, 6, 7, 8]) {
      const vector = randomUnit(13, bits);
      const back = decodeVectorRecord(encodePackedRecord(vector, 'm', bits), 'm')!;
      expect(back).toHaveLength(13);
      const step = Math.max(...vector.map(Math.abs)) / ((1 << (bits - 1)) - 1);
      vector.forEach((x, i) => expect(Math.abs(back[i] - x)).toBeLessThanOrEqual(step / 2 + 1e-7));
    }
  });

  it('keep the similarities of Gemini-like vectors (background 0.84) to within 0.004 at 6 bits', async () => {
    const texts = [
      'My card has not arrived yet',
      'Where is my new card?',
      'How do I reset my PIN?',
      'The app crashes when I open settings',
    ];
    const vectors = (await new ShiftedSemanticEmbeddings(0.84).embed(texts, 768)).map(normalize);
    const decoded = vectors.map((v) => decodeVectorRecord(encodePackedRecord(v, 'g', 6), 'g')!);
    for (let a = 0; a < vectors.length; a++) {
      for (let b = a + 1; b < vectors.length; b++) {
        expect(Math.abs(dot(decoded[a], decoded[b]) - dot(vectors[a], vectors[b]))).toBeLessThan(
          0.004,
        );
      }
    }
  });

  it('read as absent when made by another model, or not a record at all', () => {
    const record = encodeInt8Record(randomUnit(16, 3), 'model-a');
    expect(decodeVectorRecord(record, 'model-b')).toBeUndefined();
    expect(
      decodeVectorRecord(encodePackedRecord(randomUnit(16, 3), 'model-a', 6), 'model-b'),
    ).toBeUndefined();
    expect(decodeVectorRecord(Buffer.from(new Float32Array(16).buffer), 'model-a')).toBeUndefined();
    expect(decodeVectorRecord(Buffer.alloc(0), 'model-a')).toBeUndefined();
  });

  it('encode a zero vector as zeros', () => {
    for (const record of [
      encodeInt8Record(new Float32Array(8), 'm'),
      encodePackedRecord(new Float32Array(8), 'm', 6),
    ])
      expect(Array.from(decodeVectorRecord(record, 'm')!)).toEqual(new Array(8).fill(0));
  });
});
