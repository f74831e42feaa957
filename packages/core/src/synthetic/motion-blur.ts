/**
 * Synthetic camera shake, for tests, demos and benchmarks that must not depend on third-party
 * images or kernels: a camera path that is a random walk with inertia and occasional jerks,
 * rasterised with bilinear splatting (after Boracchi & Foi 2012).
 *
 * The model of the training pipeline's generator (training/sgenet/blur.py, `trajectory_kernel`),
 * not its kernels. Shared, and stated once in {@link TRAJECTORY_MODEL} (test/synthetic.test.ts
 * reads blur.py and fails when they part): the parameter ranges (inertia, jerk probability,
 * acceleration and jerk scales, steps), the unit-speed walk scaled to `length` px, the bounding
 * box centred in an odd square of side 2·ceil(half extent) + 3, bilinear splats, sum 1. A seed
 * gives a different kernel here and there, by design of the two generators:
 *   - the random streams differ: mulberry32 with Box-Muller normals here, a NumPy `Generator`
 *     (PCG64, ziggurat normals) there, drawn in a different order (blur.py draws the length
 *     first when it is not given, and a dwell phase and rate after the walk);
 *   - blur.py starts at unit speed (its first velocity is normalised), this walk at the speed of
 *     its first Gaussian draw;
 *   - blur.py weights each point by a smooth random dwell time (non-uniform exposure along the
 *     path), this one weights every point alike;
 *   - blur.py's inertia range is a parameter (`train.py --inertia`; the v0.4.0 model was trained
 *     with 0.7 to 0.99), this one is its default, `DEFAULT_INERTIA`; its default length is
 *     uniform in [5, 35] px, here 15; it can fix the kernel side (`size`), this one cannot;
 *   - blur.py accumulates in float64 and casts once, this one accumulates in float32.
 */
import type { BlurKernel, RawImage } from '../types.js';
import { reflectIndex } from '../pixels/image.js';

/** What the generators make; its home is types.ts (the pipeline's modules import it from there). */
export type { BlurKernel };

/**
 * The parameters of {@link trajectoryKernel}'s camera path, each the value of the training
 * pipeline's generator (training/sgenet/blur.py, `trajectory_kernel` and its defaults).
 */
export const TRAJECTORY_MODEL = Object.freeze({
  /**
   * [min, max] of the share of its velocity the camera keeps per step, drawn uniformly once per
   * kernel: blur.py's `DEFAULT_INERTIA` (curled paths, as the models before v0.4.0 were trained on).
   */
  inertia: Object.freeze([0.6, 0.95] as const),
  /** Upper end of the per-kernel chance of a jerk at each step, drawn uniformly from 0. */
  maxJerkProbability: 0.08,
  /** A step's random acceleration: a standard normal per axis x (1 - inertia) x this. */
  accelerationScale: 2,
  /** A jerk adds a standard normal per axis x this. */
  jerkScale: 2,
  /** Random-walk steps (the default of `steps`). */
  steps: 96,
} as const);

/** Small deterministic PRNG (mulberry32) so generated kernels are reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export interface TrajectoryOptions {
  /** Path length in pixels (default 15). */
  length?: number;
  /** Seed of the generator (default 1). */
  seed?: number;
  /** Random-walk steps (default {@link TRAJECTORY_MODEL}.steps, 96). */
  steps?: number;
}

/**
 * Generates a camera-shake kernel from a random trajectory: the model of the training pipeline's
 * generator with its default parameters ({@link TRAJECTORY_MODEL}), from a JavaScript random
 * stream (this module's header says what differs). Deterministic for a seed.
 */
export function trajectoryKernel(options: TrajectoryOptions = {}): BlurKernel {
  const model = TRAJECTORY_MODEL;
  const length = options.length ?? 15;
  const steps = options.steps ?? model.steps;
  const rand = seededRandom(options.seed ?? 1);
  const [minInertia, maxInertia] = model.inertia;
  const inertia = minInertia + (maxInertia - minInertia) * rand();
  const jerkProb = model.maxJerkProbability * rand();
  let vx = gaussian(rand);
  let vy = gaussian(rand);
  let px = 0;
  let py = 0;
  const pts: [number, number][] = [[0, 0]];
  for (let i = 0; i < steps; i++) {
    let ax = gaussian(rand) * (1 - inertia) * model.accelerationScale;
    let ay = gaussian(rand) * (1 - inertia) * model.accelerationScale;
    if (rand() < jerkProb) {
      ax += gaussian(rand) * model.jerkScale;
      ay += gaussian(rand) * model.jerkScale;
    }
    vx = inertia * vx + ax;
    vy = inertia * vy + ay;
    const n = Math.hypot(vx, vy) || 1;
    vx /= n;
    vy /= n;
    px += vx;
    py += vy;
    pts.push([px, py]);
  }
  const scale = length / steps;
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (const p of pts) {
    p[0] *= scale;
    p[1] *= scale;
    minX = Math.min(minX, p[0]); maxX = Math.max(maxX, p[0]);
    minY = Math.min(minY, p[1]); maxY = Math.max(maxY, p[1]);
  }
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const extent = Math.ceil(Math.max(maxX - cx, cx - minX, maxY - cy, cy - minY)) + 1;
  const size = 2 * extent + 1;
  const data = new Float32Array(size * size);
  for (const [x, y] of pts) {
    const fx = x - cx + extent;
    const fy = y - cy + extent;
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const ax = fx - x0;
    const ay = fy - y0;
    const splat = (xx: number, yy: number, w: number) => {
      if (xx >= 0 && xx < size && yy >= 0 && yy < size) data[yy * size + xx]! += w;
    };
    splat(x0, y0, (1 - ax) * (1 - ay));
    splat(x0 + 1, y0, ax * (1 - ay));
    splat(x0, y0 + 1, (1 - ax) * ay);
    splat(x0 + 1, y0 + 1, ax * ay);
  }
  let sum = 0;
  for (const v of data) sum += v;
  for (let i = 0; i < data.length; i++) data[i]! /= sum;
  return { width: size, height: size, data };
}

/**
 * Convolves every colour channel of an image with `kernel` (reflect border, alpha untouched) and
 * optionally adds Gaussian noise of standard deviation `noise` (in [0, 1] units).
 */
export function applyBlur(
  image: RawImage,
  kernel: BlurKernel,
  options: { noise?: number; seed?: number } = {},
): RawImage {
  const { width, height, channels } = image;
  const colour = channels >= 3 ? 3 : 1;
  const maxValue = image.data instanceof Uint16Array ? 65535 : 255;
  const out = image.data instanceof Uint16Array
    ? new Uint16Array(image.data.length)
    : new Uint8Array(image.data.length);
  out.set(image.data);
  const halfX = (kernel.width - 1) >> 1;
  const halfY = (kernel.height - 1) >> 1;
  const taps: { dx: number; dy: number; w: number }[] = [];
  for (let ky = 0; ky < kernel.height; ky++) {
    for (let kx = 0; kx < kernel.width; kx++) {
      const w = kernel.data[ky * kernel.width + kx]!;
      // True convolution: the kernel is flipped relative to the offsets.
      if (w > 0) taps.push({ dx: halfX - kx, dy: halfY - ky, w });
    }
  }
  const rand = seededRandom(options.seed ?? 7);
  const noise = (options.noise ?? 0) * maxValue;
  const src = image.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < colour; c++) {
        let acc = 0;
        for (const t of taps) {
          const sx = reflectIndex(x + t.dx, width);
          const sy = reflectIndex(y + t.dy, height);
          acc += t.w * src[(sy * width + sx) * channels + c]!;
        }
        if (noise > 0) acc += noise * gaussian(rand);
        out[(y * width + x) * channels + c] = Math.min(maxValue, Math.max(0, Math.round(acc)));
      }
    }
  }
  return { data: out, width, height, channels };
}

/**
 * Shake that differs by region: the image is cut into a `columns` x `rows` grid of cells (cell
 * boundaries at round(i x width / columns), as core's `KernelGrid`) and each cell is blurred by
 * its own kernel (`kernels`, row-major) reading the whole image, so the cells meet with a hard
 * boundary. Noise as {@link applyBlur}, one seed per cell. Test material for per-region kernels.
 */
export function applyBlurGrid(
  image: RawImage,
  grid: { columns: number; rows: number; kernels: readonly BlurKernel[] },
  options: { noise?: number; seed?: number } = {},
): RawImage {
  const { width, height, channels } = image;
  if (grid.kernels.length !== grid.columns * grid.rows) {
    throw new RangeError(`a ${grid.columns} x ${grid.rows} grid takes ${grid.columns * grid.rows} kernels, got ${grid.kernels.length}`);
  }
  const out = image.data instanceof Uint16Array ? new Uint16Array(image.data.length) : new Uint8Array(image.data.length);
  grid.kernels.forEach((kernel, i) => {
    const blurred = applyBlur(image, kernel, { ...options, seed: (options.seed ?? 7) + i });
    const col = i % grid.columns, row = Math.floor(i / grid.columns);
    const x0 = Math.round((col * width) / grid.columns), x1 = Math.round(((col + 1) * width) / grid.columns);
    const y0 = Math.round((row * height) / grid.rows), y1 = Math.round(((row + 1) * height) / grid.rows);
    for (let y = y0; y < y1; y++) out.set(blurred.data.subarray((y * width + x0) * channels, (y * width + x1) * channels), (y * width + x0) * channels);
  });
  return { data: out, width, height, channels };
}

/** The kernel mirrored left to right: another camera path of the same length and shape. */
export function mirroredKernel(kernel: BlurKernel): BlurKernel {
  const { width, height } = kernel;
  const data = new Float32Array(kernel.data.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + (width - 1 - x)] = kernel.data[y * width + x]!;
  return { width, height, data };
}

/**
 * A planted 2-region shake, the test material of per-region kernels: a dead-leaves scene whose
 * left half is blurred by a camera path and whose right half by its mirror image, as if the
 * camera had turned between the two halves. `grid` is the truth, in `applyBlurGrid`'s (and
 * `deconvolve`'s) form. Defaults: 768x512, a 21-px-long path, noise 0.005.
 */
export function twoRegionShake(options: { width?: number; height?: number; length?: number; noise?: number; seed?: number } = {}): {
  sharp: RawImage;
  blurry: RawImage;
  grid: { columns: 2; rows: 1; kernels: [BlurKernel, BlurKernel] };
} {
  const { width = 768, height = 512, length = 21, noise = 0.005, seed = 4 } = options;
  const left = trajectoryKernel({ length, seed: seed + 1 });
  const grid = { columns: 2 as const, rows: 1 as const, kernels: [left, mirroredKernel(left)] as [BlurKernel, BlurKernel] };
  const sharp = deadLeaves(width, height, seed);
  return { sharp, blurry: applyBlurGrid(sharp, grid, { noise, seed }), grid };
}

/**
 * A synthetic sharp test chart: text-like glyph strokes, fine lines, a siren star, checkerboard
 * and colour patches. Rich in the edges motion blur destroys; made here, not borrowed.
 */
export function testChart(width = 256, height = 192): RawImage {
  const data = new Uint8Array(width * height * 3);
  const cx = width * 0.75;
  const cy = height * 0.5;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 235, g = 232, b = 225;
      const u = x / width;
      const v = y / height;
      if (u < 0.5 && v < 0.5) {
        // Fine line gratings of increasing frequency.
        const period = 3 + Math.floor((x / (width * 0.5)) * 6);
        const on = Math.floor(y / period) % 2 === 0;
        r = g = b = on ? 30 : 230;
      } else if (u < 0.5) {
        // Checkerboard and colour patches.
        const check = (Math.floor(x / 8) + Math.floor(y / 8)) % 2 === 0;
        const patch = Math.floor(x / (width / 8)) % 4;
        const colours: [number, number, number][] = [[200, 40, 40], [40, 160, 60], [40, 70, 200], [230, 200, 40]];
        const [pr, pg, pb] = colours[patch]!;
        r = check ? pr : 240; g = check ? pg : 240; b = check ? pb : 240;
      } else {
        // Siren star: 24 spokes.
        const a = Math.atan2(y - cy, x - cx);
        const d = Math.hypot(x - cx, y - cy);
        if (d < Math.min(width, height) * 0.45) {
          const on = Math.floor(((a + Math.PI) / (2 * Math.PI)) * 48) % 2 === 0;
          r = g = b = on ? 20 : 240;
        }
      }
      const i = (y * width + x) * 3;
      data[i] = r; data[i + 1] = g; data[i + 2] = b;
    }
  }
  return { data, width, height, channels: 3 };
}

/** PSNR in dB between two images of the same layout (all channels). */
export function psnr(a: RawImage, b: RawImage): number {
  if (a.data.length !== b.data.length) throw new RangeError('psnr: images differ in size');
  const maxValue = a.data instanceof Uint16Array ? 65535 : 255;
  let se = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = (a.data[i]! - b.data[i]!) / maxValue;
    se += d * d;
  }
  const mse = se / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

/**
 * PSNR in dB at the best integer shift of `b` within ±`radius` px, over the interior of `a`
 * cropped by `crop` px: how blind deblurring is scored (Levin et al. 2009, Köhler et al. 2012),
 * since a blind method finds the image only up to a translation (the kernel's unknown offset).
 */
export function psnrAligned(a: RawImage, b: RawImage, radius = 5, crop = 5): number {
  if (a.data.length !== b.data.length || a.width !== b.width) throw new RangeError('psnrAligned: images differ in size');
  const { width: w, height: h, channels: c } = a;
  const maxValue = a.data instanceof Uint16Array ? 65535 : 255;
  const m = Math.max(radius, crop);
  let best = -Infinity;
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) {
      let se = 0;
      let n = 0;
      for (let y = m; y < h - m; y++) {
        for (let x = m; x < w - m; x++) {
          const i = (y * w + x) * c;
          const j = ((y + dy) * w + x + dx) * c;
          for (let k = 0; k < c; k++) {
            const d = (a.data[i + k]! - b.data[j + k]!) / maxValue;
            se += d * d;
            n++;
          }
        }
      }
      best = Math.max(best, se === 0 ? Infinity : 10 * Math.log10(n / se));
    }
  }
  return best;
}

/**
 * Variance of the 4-neighbour Laplacian of the luma (8-bit scale): the usual focus measure.
 * Higher means more fine detail; blur lowers it, deblurring should raise it.
 */
export function laplacianVariance(img: RawImage): number {
  const { width: w, height: h, channels: c, data } = img;
  const scale = data instanceof Uint16Array ? 255 / 65535 : 1;
  const g = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) {
    g[i] = (c >= 3
      ? 0.299 * data[i * c]! + 0.587 * data[i * c + 1]! + 0.114 * data[i * c + 2]!
      : data[i * c]!) * scale;
  }
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const l = g[(y - 1) * w + x]! + g[(y + 1) * w + x]! + g[y * w + x - 1]! + g[y * w + x + 1]! - 4 * g[y * w + x]!;
      s += l;
      s2 += l * l;
      n++;
    }
  }
  if (n === 0) return 0;
  const m = s / n;
  return s2 / n - m * m;
}

/**
 * A "dead leaves" image: overlapping opaque discs with power-law radii and random colours, the
 * classic synthetic model of natural-image statistics (scale invariance, occlusion edges) used to
 * test restoration without borrowing photos. Deterministic for a seed.
 */
export function deadLeaves(width = 256, height = 192, seed = 1): RawImage {
  const rand = seededRandom(seed);
  const data = new Uint8Array(width * height * 3);
  const filled = new Uint8Array(width * height);
  let remaining = width * height;
  const rMin = 2;
  const rMax = Math.max(width, height) / 4;
  // Front-to-back: a pixel takes the colour of the first disc that covers it.
  for (let n = 0; n < 20000 && remaining > 0; n++) {
    // Radius density ~ 1/r^3 (inverse-CDF sampling between rMin and rMax).
    const u = rand();
    const r = 1 / Math.sqrt(u / (rMax * rMax) + (1 - u) / (rMin * rMin));
    const cx = rand() * width;
    const cy = rand() * height;
    const base = 40 + 180 * rand();
    const tint = [0.7 + 0.6 * rand(), 0.7 + 0.6 * rand(), 0.7 + 0.6 * rand()];
    const x0 = Math.max(0, Math.floor(cx - r));
    const x1 = Math.min(width - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r));
    const y1 = Math.min(height - 1, Math.ceil(cy + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const p = y * width + x;
        if (filled[p] || (x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
        filled[p] = 1;
        remaining--;
        for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.min(255, Math.round(base * tint[c]!));
      }
    }
  }
  return { data, width, height, channels: 3 };
}
