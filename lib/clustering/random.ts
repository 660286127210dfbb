// Seeded randomness for the clustering code. Segments must not change between two runs over the same
// data, so nothing here touches Math.random: every draw comes from a generator built from a seed.

/**
 * mulberry32: a 32-bit generator, tiny, fast and good enough for sampling (not for cryptography).
 * The seed is reduced to 32 bits (`Math.trunc(seed) >>> 0`), so 1 and 2**32 + 1 give the same stream.
 * Returns draws in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let state = Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `size` distinct indices of [0, n), ascending, the same for the same (n, size, seed); all of them when
 * size >= n. Selection sampling (Knuth's algorithm S): one pass, keeping index i with probability
 * needed / remaining, so the result is uniform, comes out sorted, and costs O(n) time and O(size) memory
 * (a million-row population is sampled in a few milliseconds).
 */
export function sampleIndices(n: number, size: number, seed: number): number[] {
  const total = Math.max(0, Math.floor(n));
  const wanted = Math.max(0, Math.floor(size));
  if (wanted >= total) return Array.from({ length: total }, (_, i) => i);
  const random = seededRandom(seed);
  const chosen: number[] = [];
  for (let i = 0; i < total && chosen.length < wanted; i++) {
    if (random() * (total - i) < wanted - chosen.length) chosen.push(i);
  }
  return chosen;
}
