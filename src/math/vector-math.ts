/** Small, allocation-aware vector helpers. Vectors are Float32Array; items are unit length. */

/**
 * Four running sums: one sum waits for each addition before the next, four let the CPU
 * overlap them (the assignment's and the sweeps' hot loop; about 2× faster at 1324-d).
 */
export function dot(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  const end = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < end; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (let i = end; i < n; i++) s0 += a[i] * b[i];
  return s0 + s1 + (s2 + s3);
}

export function norm(a: Float32Array): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity; 0 when either vector is zero. */
export function cosine(a: Float32Array, b: Float32Array): number {
  const n = norm(a) * norm(b);
  return n === 0 ? 0 : dot(a, b) / n;
}

/** A unit-length copy (a zero vector stays zero). */
export function normalize(a: Float32Array): Float32Array {
  const n = norm(a);
  const out = new Float32Array(a.length);
  if (n === 0) return out;
  for (let i = 0; i < a.length; i++) out[i] = a[i] / n;
  return out;
}

/** The mean after adding `vector` to a mean of `count` vectors. */
export function meanWith(mean: Float32Array, count: number, vector: Float32Array): Float32Array {
  const out = new Float32Array(mean.length);
  for (let i = 0; i < mean.length; i++) out[i] = (mean[i] * count + vector[i]) / (count + 1);
  return out;
}

/** The size-weighted mean of two means. */
export function mergeMeans(
  a: Float32Array,
  aCount: number,
  b: Float32Array,
  bCount: number,
): Float32Array {
  const out = new Float32Array(a.length);
  const total = aCount + bCount;
  for (let i = 0; i < a.length; i++) out[i] = (a[i] * aCount + b[i] * bCount) / total;
  return out;
}

/** Typed arrays use the platform's byte order; the stored format is little-endian. */
const LITTLE_ENDIAN_PLATFORM = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian float32 bytes, for compact storage in Redis. */
export function packVector(v: Float32Array): Buffer {
  if (LITTLE_ENDIAN_PLATFORM)
    return Buffer.from(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  const buf = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i], i * 4);
  return buf;
}

export function unpackVector(buf: Buffer): Float32Array {
  const out = new Float32Array(buf.length >> 2);
  if (LITTLE_ENDIAN_PLATFORM) {
    new Uint8Array(out.buffer).set(buf.subarray(0, out.byteLength));
    return out;
  }
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

/** A vector stored as int8 codes and one scale: `v[i] ≈ codes[i] * scale`. */
export interface Int8Vector {
  codes: Int8Array;
  scale: number;
}

/**
 * Symmetric int8 quantisation with one scale per vector (its largest magnitude / 127): a
 * quarter of float32's size; for a 768-d unit vector the cosine between a
 * vector and its round trip is above 0.9999 (`test/item-vectors/vector-record.spec.ts`).
 */
export function quantizeInt8(v: Float32Array): Int8Vector {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]));
  const scale = max / 127;
  const codes = new Int8Array(v.length);
  if (scale > 0) for (let i = 0; i < v.length; i++) codes[i] = Math.round(v[i] / scale);
  return { codes, scale };
}

export function dequantizeInt8({ codes, scale }: Int8Vector): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i] * scale;
  return out;
}
