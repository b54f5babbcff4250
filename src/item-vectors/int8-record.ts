import { dequantizeInt8, quantizeInt8 } from '../math/vector-math';

/**
 * A vector as kept in Redis: `[0x01][u32 model fingerprint][f32 scale][int8 × dimensions]`,
 * little-endian, 9 + d bytes (777 for a 768-d Gemini vector, against 3,072 as float32 plus the
 * model's name beside it). The fingerprint names the model that made the vector without
 * storing the name per vector: a vector of another model (or an older format) reads as absent.
 */
const FORMAT_INT8 = 0x01;
const HEADER_BYTES = 9;

/** FNV-1a over the model name: a stable 32-bit tag, compared, never trusted as unique. */
export function modelFingerprint(model: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(model, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function encodeInt8Record(vector: Float32Array, model: string): Buffer {
  const { codes, scale } = quantizeInt8(vector);
  const out = Buffer.allocUnsafe(HEADER_BYTES + codes.length);
  out.writeUInt8(FORMAT_INT8, 0);
  out.writeUInt32LE(modelFingerprint(model), 1);
  out.writeFloatLE(scale, 5);
  out.set(new Uint8Array(codes.buffer, codes.byteOffset, codes.length), HEADER_BYTES);
  return out;
}

/** The vector, or undefined when the record is of another model or not in this format. */
export function decodeInt8Record(record: Buffer, model: string): Float32Array | undefined {
  if (record.length <= HEADER_BYTES || record.readUInt8(0) !== FORMAT_INT8) return undefined;
  if (record.readUInt32LE(1) !== modelFingerprint(model)) return undefined;
  const codes = new Int8Array(record.length - HEADER_BYTES);
  codes.set(new Int8Array(record.buffer, record.byteOffset + HEADER_BYTES, codes.length));
  return dequantizeInt8({ codes, scale: record.readFloatLE(5) });
}
