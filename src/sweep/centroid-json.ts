/** The contract's `centroid` field: a JSON array; six decimals, as the persist stage writes it. */
export function centroidJson(v: Float32Array): string {
  return JSON.stringify(Array.from(v, (x) => Math.round(x * 1e6) / 1e6));
}
