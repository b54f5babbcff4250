/** Small, allocation-aware vector helpers. Vectors are Float32Array; items are unit length. */

export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
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
 * vector and its round trip is above 0.9999 (`test/item-vectors/int8-record.spec.ts`).
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
