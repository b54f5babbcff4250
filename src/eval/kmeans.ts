import { dot } from '../math/vector-math';

export interface KMeansResult {
  /** Cluster index of every vector, in input order. */
  labels: number[];
  /** Sum over vectors of 1 - cosine to their centre (lower is tighter). */
  inertia: number;
}

/**
 * Spherical k-means (cosine; k-means++ seeding, Lloyd iterations) told the number of
 * clusters: the baseline the service is compared with in `npm run eval`. Vectors must be unit
 * length. The best of `restarts` seedings (lowest inertia) is returned.
 */
export function kMeans(
  vectors: readonly Float32Array[],
  k: number,
  random: () => number,
  { restarts = 3, maxIterations = 50 }: { restarts?: number; maxIterations?: number } = {},
): KMeansResult {
  let best: KMeansResult | undefined;
  for (let r = 0; r < restarts; r++) {
    const result = lloyd(vectors, seedCentres(vectors, k, random), maxIterations);
    if (!best || result.inertia < best.inertia) best = result;
  }
  if (!best) throw new Error('kMeans needs at least one restart');
  return best;
}

/** k-means++: each next centre drawn with probability proportional to its distance. */
function seedCentres(vectors: readonly Float32Array[], k: number, random: () => number) {
  const centres: Float32Array[] = [vectors[Math.floor(random() * vectors.length)]];
  const distance = vectors.map((v) => 1 - dot(v, centres[0]));
  while (centres.length < Math.min(k, vectors.length)) {
    const total = distance.reduce((sum, d) => sum + Math.max(d, 0), 0);
    let pick = random() * total;
    let chosen = vectors.length - 1;
    for (let i = 0; i < vectors.length; i++) {
      pick -= Math.max(distance[i], 0);
      if (pick <= 0) {
        chosen = i;
        break;
      }
    }
    const centre = vectors[chosen];
    centres.push(centre);
    vectors.forEach((v, i) => (distance[i] = Math.min(distance[i], 1 - dot(v, centre))));
  }
  return centres.map((c) => Float32Array.from(c));
}

function lloyd(
  vectors: readonly Float32Array[],
  centres: Float32Array[],
  maxIterations: number,
): KMeansResult {
  const labels = new Array<number>(vectors.length).fill(-1);
  let inertia = 0;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    let changed = 0;
    inertia = 0;
    vectors.forEach((v, i) => {
      let bestCentre = 0;
      let bestSimilarity = -Infinity;
      centres.forEach((c, j) => {
        const similarity = dot(v, c);
        if (similarity > bestSimilarity) [bestCentre, bestSimilarity] = [j, similarity];
      });
      if (labels[i] !== bestCentre) changed++;
      labels[i] = bestCentre;
      inertia += 1 - bestSimilarity;
    });
    if (changed === 0) break;
    centres = recentre(vectors, labels, centres);
  }
  return { labels, inertia };
}

/** Each centre becomes the normalised mean of its vectors (an empty one keeps its place). */
function recentre(vectors: readonly Float32Array[], labels: number[], old: Float32Array[]) {
  const sums = old.map((c) => new Float32Array(c.length));
  vectors.forEach((v, i) => {
    const sum = sums[labels[i]];
    for (let d = 0; d < v.length; d++) sum[d] += v[d];
  });
  return sums.map((sum, j) => {
    const length = Math.sqrt(dot(sum, sum));
    if (length === 0) return old[j];
    for (let d = 0; d < sum.length; d++) sum[d] /= length;
    return sum;
  });
}
