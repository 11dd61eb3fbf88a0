import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AUGMENTATIONS, augmentKey, computeStats, fillImage, imageAugmentation, makeTransform, resolveAugmentation,
} from '../src/data/index.js';
import type { Augmentation, ImageSet, Transform } from '../src/data/index.js';
import { isLosstopoError } from '../src/errors.js';
import { randomSet } from './fixtures/data/make.js';

const raw = (set: ImageSet, i: number, c: number, y: number, x: number): number =>
  set.images[i * set.channels * set.height * set.width + (c * set.height + y) * set.width + x]!;

function transform(set: ImageSet, aug: Partial<Augmentation>, train = true): Transform {
  return makeTransform({ ...AUGMENTATIONS.none, normalize: 'none', ...aug }, computeStats(set), set, train);
}
function render(set: ImageSet, t: Transform, i: number, key: number): Float32Array {
  const out = new Float32Array(set.channels * set.height * set.width);
  fillImage(out, 0, set.images, i, t, key);
  return out;
}
/** First image index whose decisions under `key` satisfy `pred`. */
function findIndex(key: number, t: Transform, pred: (a: ReturnType<typeof imageAugmentation>) => boolean): number {
  for (let i = 0; i < 100_000; i++) if (pred(imageAugmentation(key, i, t))) return i;
  throw new Error('none found');
}

describe('augmentation names and keys', () => {
  it('resolves the presets', () => {
    assert.deepEqual(resolveAugmentation('caffe'), { mirror: true, pad: 0, normalize: 'mean-image' });
    assert.deepEqual(resolveAugmentation('standard'), { mirror: true, pad: 4, normalize: 'per-channel' });
    assert.deepEqual(resolveAugmentation('none'), { mirror: false, pad: 0, normalize: 'per-channel' });
    assert.deepEqual(resolveAugmentation({ preset: 'caffe', mirror: false }), { mirror: false, pad: 0, normalize: 'mean-image' });
    assert.deepEqual(resolveAugmentation({ pad: 2 }), { mirror: false, pad: 2, normalize: 'per-channel' });
  });
  it('rejects unknown names, keys and bad values with one line', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['cafe', /augmentation: expected one of caffe\|standard\|none, received "cafe"; did you mean "caffe"\?/],
      [{ mirorr: true }, /augmentation\.mirorr: unknown augmentation key.*did you mean "mirror"\?/],
      [{ preset: 'flip' }, /augmentation\.preset: expected one of caffe\|standard\|none/],
      [{ pad: -1 }, /augmentation\.pad: expected an integer 0\.\.64, received -1/],
      [{ mirror: 'yes' }, /augmentation\.mirror: expected true or false/],
      [{ normalize: 'mean' }, /augmentation\.normalize: expected one of mean-image\|per-channel\|none/],
      [42, /augmentation: expected a preset name/],
    ];
    for (const [input, re] of cases) {
      assert.throws(() => resolveAugmentation(input), (e: unknown) => isLosstopoError(e) && re.test(e.format()) && !e.format().includes('\n'), String(JSON.stringify(input)));
    }
  });
});

describe('augmentation properties', () => {
  const set = randomSet(64, { seed: 11 });

  it('mirrors exactly, and two mirrors are the identity', () => {
    const t = transform(set, { mirror: true });
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 63 }), (seed, i) => {
      const key = augmentKey(seed, 0);
      const out = render(set, t, i, key);
      const a = imageAugmentation(key, i, t);
      for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
        assert.equal(out[(c * 32 + y) * 32 + x], raw(set, i, c, y, a.mirror ? 31 - x : x));
      }
      if (!a.mirror) return;
      // Mirror the mirrored image once more (as image j, one the key mirrors): the original comes back.
      const j = findIndex(key, t, (d) => d.mirror);
      const images = new Uint8Array((j + 1) * 3072);
      images.set(Uint8Array.from(out), j * 3072);
      const twice = new Float32Array(3072);
      fillImage(twice, 0, images, j, t, key);
      assert.deepEqual(Array.from(twice), Array.from(set.images.subarray(i * 3072, (i + 1) * 3072)));
    }), { numRuns: 40 });
  });

  it('pads with zeros and crops in bounds; offset (4,4) without mirror is the original', () => {
    const t = transform(set, { pad: 4 });
    const seen = new Set<string>();
    for (let seed = 0; seed < 3; seed++) {
      const key = augmentKey(seed, seed);
      for (let i = 0; i < 64; i++) {
        const a = imageAugmentation(key, i, t);
        assert.ok(a.dx >= 0 && a.dx <= 8 && a.dy >= 0 && a.dy <= 8);
        assert.equal(a.mirror, false);
        seen.add(`${a.dx},${a.dy}`);
        const out = render(set, t, i, key);
        for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
          const sy = y + a.dy - 4; const sx = x + a.dx - 4;
          const want = sy >= 0 && sy < 32 && sx >= 0 && sx < 32 ? raw(set, i, c, sy, sx) : 0;
          assert.equal(out[(c * 32 + y) * 32 + x], want);
        }
      }
    }
    assert.ok(seen.size > 40, `crop offsets vary: ${seen.size} of 81 seen`);
    const key = augmentKey(5, 0);
    const i = findIndex(key, t, (d) => d.dx === 4 && d.dy === 4);
    const big = randomSet(i + 1, { seed: 3 });
    assert.deepEqual(Array.from(render(big, transform(big, { pad: 4 }), i, key)), Array.from(big.images.subarray(i * 3072)));
  });

  it('the standard preset normalises padded pixels as raw zeros and mirrors after the crop', () => {
    const stats = computeStats(set);
    const t = makeTransform(resolveAugmentation('standard'), stats, set, true);
    const key = augmentKey(9, 2);
    for (let i = 0; i < 16; i++) {
      const a = imageAugmentation(key, i, t);
      const out = render(set, t, i, key);
      for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
        const cx = a.mirror ? 31 - x : x; // position in the un-mirrored crop
        const sy = y + a.dy - 4; const sx = cx + a.dx - 4;
        const v = sy >= 0 && sy < 32 && sx >= 0 && sx < 32 ? raw(set, i, c, sy, sx) : 0;
        const want = (v - stats.channelMean[c]!) / stats.channelStd[c]!;
        assert.ok(Math.abs(out[(c * 32 + y) * 32 + x]! - want) < 1e-4);
      }
    }
  });

  it('caffe: mean image subtracted at the source pixel, raw scale, then mirrored', () => {
    const stats = computeStats(set);
    const t = makeTransform(resolveAugmentation('caffe'), stats, set, true);
    const key = augmentKey(1, 1);
    const i = findIndex(key, t, (d) => d.mirror);
    assert.ok(i < 64);
    const out = render(set, t, i, key);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
      const s = (c * 32 + y) * 32 + (31 - x);
      assert.ok(Math.abs(out[(c * 32 + y) * 32 + x]! - (set.images[i * 3072 + s]! - stats.meanImage[s]!)) < 1e-4);
    }
  });

  it('normalisations: per-channel gives ~zero mean and unit std; mean-image gives a zero mean image', () => {
    const stats = computeStats(set);
    for (const normalize of ['per-channel', 'mean-image'] as const) {
      const t = makeTransform({ mirror: false, pad: 0, normalize }, stats, set, false);
      const sum = new Float64Array(3072); const ch = [0, 0, 0]; const sq = [0, 0, 0];
      for (let i = 0; i < set.count; i++) {
        const out = render(set, t, i, 0);
        for (let k = 0; k < 3072; k++) { sum[k] += out[k]!; ch[k >> 10]! += out[k]!; sq[k >> 10]! += out[k]! ** 2; }
      }
      const n = set.count * 1024;
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(ch[c]! / n) < 1e-3, `${normalize} mean ${ch[c]! / n}`);
        if (normalize === 'per-channel') assert.ok(Math.abs(Math.sqrt(sq[c]! / n) - 1) < 1e-3);
      }
      if (normalize === 'mean-image') for (let k = 0; k < 3072; k++) assert.ok(Math.abs(sum[k]! / set.count) < 1e-3);
    }
  });

  it('evaluation uses the same normalisation and never augments', () => {
    const stats = computeStats(set);
    for (const name of ['caffe', 'standard', 'none'] as const) {
      const aug = resolveAugmentation(name);
      const tr = makeTransform(aug, stats, set, true); const ev = makeTransform(aug, stats, set, false);
      assert.equal(ev.mirror, false); assert.equal(ev.pad, 0);
      assert.deepEqual(Array.from(ev.sub), Array.from(tr.sub));
      assert.deepEqual(Array.from(ev.mul), Array.from(tr.mul));
      const a = render(set, ev, 5, augmentKey(1, 0)); const b = render(set, ev, 5, augmentKey(2, 7));
      assert.deepEqual(Array.from(a), Array.from(b));
    }
  });

  it('mirrors about half the images and spreads crop offsets evenly', () => {
    const t = { mirror: true, pad: 4 };
    let mirrored = 0; const dx = new Array<number>(9).fill(0);
    const key = augmentKey(123, 4);
    for (let i = 0; i < 9000; i++) { const a = imageAugmentation(key, i, t); mirrored += a.mirror ? 1 : 0; dx[a.dx]!++; }
    assert.ok(Math.abs(mirrored / 9000 - 0.5) < 0.03, `mirror rate ${mirrored / 9000}`);
    for (const n of dx) assert.ok(Math.abs(n - 1000) < 150, `dx counts ${dx.join(',')}`);
  });

  it('works on one-channel 28x28 images', () => {
    const g = randomSet(4, { channels: 1, height: 28, width: 28 });
    const t = transform(g, { mirror: true, pad: 2 });
    const key = augmentKey(0, 0);
    const a = imageAugmentation(key, 1, t);
    const out = new Float32Array(784);
    fillImage(out, 0, g.images, 1, t, key);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
      const cx = a.mirror ? 27 - x : x; const sy = y + a.dy - 2; const sx = cx + a.dx - 2;
      assert.equal(out[y * 28 + x], sy >= 0 && sy < 28 && sx >= 0 && sx < 28 ? raw(g, 1, 0, sy, sx) : 0);
    }
  });
});
