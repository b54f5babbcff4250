import { dequantizeInt8, quantizeInt8 } from '../math/vector-math';

/**
 * Vectors as kept in Redis, little-endian, each record starting with its format and the
 * fingerprint of the model that made it (the model's name is not stored per vector: a vector of
 * another model, or of an unknown format, reads as absent):
 * - int8: `[0x01][u32 fingerprint][f32 scale][int8 × d]`, 9 + d bytes (cluster anchors);
 * - packed: `[0x02][u32 fingerprint][f32 scale][u8 bits][u16 d][codes of `bits` bits × d]`,
 *   codes in ±(2^(bits-1) - 1), packed end to end (item vectors, see `encodePackedRecord`).
 */
const FORMAT_INT8 = 0x01;
const FORMAT_PACKED = 0x02;
const INT8_HEADER_BYTES = 9;
const PACKED_HEADER_BYTES = 12;

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
  const out = Buffer.allocUnsafe(INT8_HEADER_BYTES + codes.length);
  out.writeUInt8(FORMAT_INT8, 0);
  out.writeUInt32LE(modelFingerprint(model), 1);
  out.writeFloatLE(scale, 5);
  out.set(new Uint8Array(codes.buffer, codes.byteOffset, codes.length), INT8_HEADER_BYTES);
  return out;
}

/**
 * Symmetric quantisation to `bits` bits per coordinate with one scale per vector (its largest
 * magnitude), codes packed end to end. Redis rounds a hash value up to its allocator's size
 * class: a 768-d int8 record (777 B) takes 896 B, a 6-bit one (588 B) 640 B, which is what
 * brings a hosted embedder's items under 1 KB each (README "Keys").
 */
export function encodePackedRecord(vector: Float32Array, model: string, bits: number): Buffer {
  const levels = (1 << (bits - 1)) - 1;
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i]));
  const scale = max / levels;
  const out = Buffer.alloc(PACKED_HEADER_BYTES + Math.ceil((vector.length * bits) / 8));
  out.writeUInt8(FORMAT_PACKED, 0);
  out.writeUInt32LE(modelFingerprint(model), 1);
  out.writeFloatLE(scale, 5);
  out.writeUInt8(bits, 9);
  out.writeUInt16LE(vector.length, 10);
  for (let i = 0; i < vector.length; i++) {
    // Offset binary: code + levels is in 0 .. 2 × levels, which fits in `bits` bits.
    const code = (scale > 0 ? Math.round(vector[i] / scale) : 0) + levels;
    const bit = i * bits;
    const at = PACKED_HEADER_BYTES + (bit >> 3);
    const shift = bit & 7;
    out[at] |= (code << shift) & 0xff;
    if (shift + bits > 8) out[at + 1] |= code >> (8 - shift);
  }
  return out;
}

/** The vector, or undefined when the record is of another model or not in a known format. */
export function decodeVectorRecord(record: Buffer, model: string): Float32Array | undefined {
  if (record.length < INT8_HEADER_BYTES) return undefined;
  if (record.readUInt32LE(1) !== modelFingerprint(model)) return undefined;
  const format = record.readUInt8(0);
  if (format === FORMAT_INT8 && record.length > INT8_HEADER_BYTES) {
    const codes = new Int8Array(record.length - INT8_HEADER_BYTES);
    codes.set(new Int8Array(record.buffer, record.byteOffset + INT8_HEADER_BYTES, codes.length));
    return dequantizeInt8({ codes, scale: record.readFloatLE(5) });
  }
  if (format !== FORMAT_PACKED || record.length < PACKED_HEADER_BYTES) return undefined;
  const scale = record.readFloatLE(5);
  const bits = record.readUInt8(9);
  const dimensions = record.readUInt16LE(10);
  if (bits < 2 || bits > 8) return undefined;
  if (record.length !== PACKED_HEADER_BYTES + Math.ceil((dimensions * bits) / 8)) return undefined;
  const levels = (1 << (bits - 1)) - 1;
  const mask = (1 << bits) - 1;
  const out = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) {
    const bit = i * bits;
    const at = PACKED_HEADER_BYTES + (bit >> 3);
    const shift = bit & 7;
    let code = record[at] >> shift;
    if (shift + bits > 8) code |= record[at + 1] << (8 - shift);
    out[i] = ((code & mask) - levels) * scale;
  }
  return out;
}
