/**
 * A fixed, seeded sparse random projection (a count sketch): input coordinate i is added,
 * with a random sign, to one output coordinate. It costs one pass over the input, keeps
 * inner products on average (the error shrinks as 1/sqrt(outputDimensions)), and is the
 * same in every process, so graphs built by different replicas agree.
 */
export class SketchProjection {
  private readonly bucket: Uint16Array;
  private readonly sign: Float32Array;

  constructor(
    readonly inputDimensions: number,
    readonly outputDimensions: number,
    seed = 0x5eed,
  ) {
    this.bucket = new Uint16Array(inputDimensions);
    this.sign = new Float32Array(inputDimensions);
    let state = seed >>> 0;
    const next = () => {
      // xorshift32: small, fast and reproducible; cryptographic quality is not needed here.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 4294967296;
    };
    for (let i = 0; i < inputDimensions; i++) {
      this.bucket[i] = Math.floor(next() * outputDimensions);
      this.sign[i] = next() < 0.5 ? -1 : 1;
    }
  }

  /** The projection of `v`, scaled to unit length (a zero vector stays zero). */
  project(v: Float32Array): Float32Array {
    const out = new Float32Array(this.outputDimensions);
    for (let i = 0; i < this.inputDimensions; i++) out[this.bucket[i]] += this.sign[i] * v[i];
    let sum = 0;
    for (let j = 0; j < out.length; j++) sum += out[j] * out[j];
    const length = Math.sqrt(sum);
    if (length > 0) for (let j = 0; j < out.length; j++) out[j] /= length;
    return out;
  }
}
