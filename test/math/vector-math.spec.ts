import {
  cosine,
  dot,
  meanWith,
  mergeMeans,
  norm,
  normalize,
  packVector,
  unpackVector,
} from '../../src/math/vector-math';

const v = (...xs: number[]): Float32Array => Float32Array.from(xs);

describe('vector math', () => {
  it('computes dot products and norms', () => {
    expect(dot(v(1, 2, 3), v(4, -5, 6))).toBe(12);
    expect(norm(v(3, 4))).toBe(5);
  });

  it('gives cosine similarity, and 0 against a zero vector', () => {
    expect(cosine(v(1, 0), v(5, 0))).toBeCloseTo(1);
    expect(cosine(v(1, 0), v(0, 2))).toBeCloseTo(0);
    expect(cosine(v(1, 1), v(-1, -1))).toBeCloseTo(-1);
    expect(cosine(v(1, 1), v(0, 0))).toBe(0);
  });

  it('normalises to unit length without touching the input; zero stays zero', () => {
    const input = v(3, 4);
    expect(Array.from(normalize(input))).toEqual([expect.closeTo(0.6), expect.closeTo(0.8)]);
    expect(Array.from(input)).toEqual([3, 4]);
    expect(Array.from(normalize(v(0, 0)))).toEqual([0, 0]);
  });

  it('updates a running mean as the mean of all vectors seen', () => {
    const vectors = [v(1, 0), v(0, 1), v(4, 4)];
    let mean = vectors[0];
    vectors.slice(1).forEach((x, i) => (mean = meanWith(mean, i + 1, x)));
    expect(Array.from(mean)).toEqual([expect.closeTo(5 / 3), expect.closeTo(5 / 3)]);
  });

  it('merges two means weighted by their counts', () => {
    expect(Array.from(mergeMeans(v(0, 0), 3, v(4, 8), 1))).toEqual([1, 2]);
  });

  it('round-trips vectors through their packed bytes', () => {
    const x = v(0.1, -2.5, 1e-7, 3);
    const packed = packVector(x);
    expect(packed.length).toBe(16);
    expect(Array.from(unpackVector(packed))).toEqual(Array.from(x));
  });
});
