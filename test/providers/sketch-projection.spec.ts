import { cosine, normalize } from '../../src/math/vector-math';
import { SketchProjection } from '../../src/providers/embedded/sketch-projection';

function gaussianish(dims: number, seed: number): Float32Array {
  let x = seed;
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    v[i] = x / 2147483648 - 0.5;
  }
  return normalize(v);
}

describe('SketchProjection', () => {
  it('is the same in every process (seeded), and unit length', () => {
    const v = gaussianish(1324, 1);
    const a = new SketchProjection(1324, 128).project(v);
    const b = new SketchProjection(1324, 128).project(v);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(cosine(a, a)).toBeCloseTo(1, 5);
    expect(Math.hypot(...a)).toBeCloseTo(1, 5);
  });

  it('keeps similar vectors similar and unrelated ones apart', () => {
    const projection = new SketchProjection(1324, 128);
    let similarError = 0;
    let unrelatedError = 0;
    const trials = 50;
    for (let t = 0; t < trials; t++) {
      const base = gaussianish(1324, 100 + t);
      const noise = gaussianish(1324, 900 + t);
      const near = normalize(base.map((x, i) => x + 0.5 * noise[i]));
      const far = gaussianish(1324, 5000 + t);
      similarError += Math.abs(
        cosine(projection.project(base), projection.project(near)) - cosine(base, near),
      );
      unrelatedError += Math.abs(
        cosine(projection.project(base), projection.project(far)) - cosine(base, far),
      );
    }
    // The sketch's error is about 1/sqrt(128) ≈ 0.09 at most on average.
    expect(similarError / trials).toBeLessThan(0.1);
    expect(unrelatedError / trials).toBeLessThan(0.1);
  });
});
