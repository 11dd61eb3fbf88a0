/**
 * Small seeded random numbers for data order and augmentation: never Math.random, so a run is a
 * function of its seed. Two kinds:
 * - `splitmix32(seed)`: a sequential generator (used for shuffles and subset draws);
 * - `hash32(...)`/`mix32`: a counter-based hash, so a per-image decision (mirror, crop offset) is a
 *   pure function of (seed, epoch, image) and any batch can be rebuilt without replaying others.
 */

/** murmur3's 32-bit finaliser: a bijective avalanche mix of one uint32. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b);
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hash of a few uint32 words (order matters), e.g. `hash32(seed, epoch, STREAM)`. */
export function hash32(...words: number[]): number {
  let h = 0x243f6a88;
  for (const w of words) h = mix32((h ^ mix32((w >>> 0) + 0x9e3779b9)) + Math.imul(h, 5));
  return h;
}

/** splitmix32: returns uint32 values, period 2^32. */
export function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

/** Uniform integer in [0, n) from a uint32 source (n <= 2^32; bias below 2^-20 for n < 4096). */
export function below(rng: () => number, n: number): number {
  return Math.floor((rng() / 4294967296) * n);
}

/** Fisher-Yates shuffle in place, driven by `rng`. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(a: T, rng: () => number): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = below(rng, i + 1);
    const t = a[i]!; a[i] = a[j]!; a[j] = t;
  }
  return a;
}

/** A random permutation of 0..n-1. */
export function permutation(n: number, rng: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffleInPlace(p, rng);
}

/** Stream tags so different uses of one seed never share random numbers. */
export const STREAM = {
  order: 0x6f726472, // 'ordr': per-epoch shuffle
  augment: 0x61756720, // 'aug ': per-image mirror / crop
  subset: 0x73756273, // 'subs': trainSize draw
  val: 0x76616c20, // 'val ': validation hold-out (fixed, not seeded by the run)
} as const;
