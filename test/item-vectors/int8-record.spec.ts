import { decodeInt8Record, encodeInt8Record } from '../../src/item-vectors/int8-record';
import { cosine, dot } from '../../src/math/vector-math';
import { LocalEmbedder } from '../../src/providers/local/local-embedder';
import { seededUnitVector } from '../support/cluster-state-fixtures';

const randomUnit = (dimensions: number, seed: number) => seededUnitVector(seed, dimensions);

describe('int8 vector records', () => {
  it('keep a 768-d vector in 777 bytes, within 0.9999 cosine of the original', () => {
    const vector = randomUnit(768, 7);
    const record = encodeInt8Record(vector, 'gemini-embedding-001@768');
    expect(record.length).toBe(777);
    const back = decodeInt8Record(record, 'gemini-embedding-001@768')!;
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
      decodeInt8Record(encodeInt8Record(v, 'local-v3'), 'local-v3')!,
    );
    for (let a = 0; a < vectors.length; a++) {
      for (let b = a + 1; b < vectors.length; b++) {
        expect(Math.abs(dot(decoded[a], decoded[b]) - dot(vectors[a], vectors[b]))).toBeLessThan(
          0.005,
        );
      }
    }
  });

  it('read as absent when made by another model, or not a record at all', () => {
    const record = encodeInt8Record(randomUnit(16, 3), 'model-a');
    expect(decodeInt8Record(record, 'model-b')).toBeUndefined();
    expect(decodeInt8Record(Buffer.from(new Float32Array(16).buffer), 'model-a')).toBeUndefined();
    expect(decodeInt8Record(Buffer.alloc(0), 'model-a')).toBeUndefined();
  });

  it('encode a zero vector as zeros', () => {
    const back = decodeInt8Record(encodeInt8Record(new Float32Array(8), 'm'), 'm')!;
    expect(Array.from(back)).toEqual(new Array(8).fill(0));
  });
});
