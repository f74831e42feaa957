/**
 * Kernel cleanup after each least-squares update: the physical constraints (non-negative, sums to
 * one), a hysteresis threshold that removes the noise floor of the FFT solve but keeps the faint
 * tail of a stroke that connects to its strong part, connected components (a camera path is one
 * connected curve; isolated specks are solver noise), and re-centring (blind estimation knows the
 * kernel only up to a translation): on the centre of mass between iterations, where it keeps the
 * kernel in its window, and on the midpoint of the support for the result, the convention PSFs are
 * stored in.
 */

export interface CleanupSettings {
  /** Values below this share of the peak start no component. */
  seedThreshold: number;
  /** Values below this share of the peak are zero even when connected (the tail floor). */
  tailThreshold: number;
  /** Components lighter than this share of the heaviest one are dropped. */
  minComponentShare: number;
}

/**
 * Applies the constraints in place and returns the kernel (size x size); an all-zero input
 * becomes the identity.
 */
export function cleanupKernel(k: Float64Array, size: number, settings: CleanupSettings): Float64Array {
  let peak = 0;
  for (let i = 0; i < k.length; i++) {
    if (!(k[i]! > 0)) k[i] = 0;
    else if (k[i]! > peak) peak = k[i]!;
  }
  if (peak === 0) return identityKernel(size);
  const tail = settings.tailThreshold * peak;
  const seed = settings.seedThreshold * peak;
  for (let i = 0; i < k.length; i++) if (k[i]! < tail) k[i] = 0;
  const labels = new Int32Array(k.length).fill(-1);
  const masses: number[] = [];
  const seeded: boolean[] = [];
  const stack: number[] = [];
  for (let start = 0; start < k.length; start++) {
    if (k[start] === 0 || labels[start] !== -1) continue;
    const label = masses.length;
    let mass = 0;
    let hasSeed = false;
    labels[start] = label;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      mass += k[p]!;
      if (k[p]! >= seed) hasSeed = true;
      const px = p % size;
      const py = (p - px) / size;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const x = px + dx;
          const y = py + dy;
          if (x < 0 || y < 0 || x >= size || y >= size) continue;
          const q = y * size + x;
          if (k[q] !== 0 && labels[q] === -1) { labels[q] = label; stack.push(q); }
        }
      }
    }
    masses.push(mass);
    seeded.push(hasSeed);
  }
  let heaviest = 0;
  masses.forEach((m, i) => { if (seeded[i] && m > heaviest) heaviest = m; });
  let sum = 0;
  for (let i = 0; i < k.length; i++) {
    const l = labels[i]!;
    if (l < 0 || !seeded[l] || masses[l]! < settings.minComponentShare * heaviest) k[i] = 0;
    else sum += k[i]!;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** A size x size delta (sum 1) at the centre. */
export function identityKernel(size: number): Float64Array {
  const k = new Float64Array(size * size);
  k[((size - 1) / 2) * size + (size - 1) / 2] = 1;
  return k;
}

/** The centre of mass of a size x size kernel, in tap coordinates. */
export function centreOfMass(k: ArrayLike<number>, width: number, height = width): { x: number; y: number } {
  let sx = 0, sy = 0, s = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = k[y * width + x]!;
      sx += v * x; sy += v * y; s += v;
    }
  }
  return s > 0 ? { x: sx / s, y: sy / s } : { x: (width - 1) / 2, y: (height - 1) / 2 };
}

/**
 * The midpoint of a kernel's support, in tap coordinates: per axis, halfway between where the
 * kernel's cumulative mass (summed across the other axis) first reaches `trim` and first reaches
 * 1 - `trim`. Recorded PSFs are stored with their support centred: the Levin et al. kernels'
 * support midpoints sit within 1 tap of their array centres while their centres of mass sit up
 * to 4.3 taps off, and the project's camera paths are drawn that way (`trajectoryKernel`). The
 * trim (default 5%, the cleanup's seed threshold) keeps a faint spurious tail of an estimate from
 * pulling the midpoint; 0 gives the bounding box of the non-zero taps.
 */
export function supportMidpoint(k: ArrayLike<number>, width: number, height = width, trim = 0.05): { x: number; y: number } {
  const columns = new Float64Array(width);
  const rows = new Float64Array(height);
  let total = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = k[y * width + x]!;
      if (!(v > 0)) continue;
      columns[x]! += v; rows[y]! += v; total += v;
    }
  }
  if (total === 0) return { x: (width - 1) / 2, y: (height - 1) / 2 };
  const midpoint = (marginal: Float64Array) => {
    let lo = -1, hi = -1, sum = 0;
    for (let i = 0; i < marginal.length; i++) {
      sum += marginal[i]!;
      // Strictly positive mass only: with trim 0 the first and last non-zero taps.
      if (lo < 0 && marginal[i]! > 0 && sum >= trim * total) lo = i;
      if (hi < 0 && marginal[i]! > 0 && sum >= (1 - trim) * total * (1 - 1e-12)) hi = i;
    }
    return (lo + hi) / 2;
  };
  return { x: midpoint(columns), y: midpoint(rows) };
}

/**
 * Shifts the kernel by whole taps so that `point` (default: its centre of mass) is within half a
 * tap of the centre. Mass shifted past the border is dropped and the kernel renormalised.
 */
export function centreKernel(k: Float64Array, size: number, point = centreOfMass(k, size)): Float64Array {
  const mid = (size - 1) / 2;
  const dx = Math.round(mid - point.x);
  const dy = Math.round(mid - point.y);
  if (dx === 0 && dy === 0) return k;
  const out = new Float64Array(k.length);
  let sum = 0;
  for (let y = 0; y < size; y++) {
    const ty = y + dy;
    if (ty < 0 || ty >= size) continue;
    for (let x = 0; x < size; x++) {
      const tx = x + dx;
      if (tx < 0 || tx >= size) continue;
      out[ty * size + tx] = k[y * size + x]!;
      sum += k[y * size + x]!;
    }
  }
  if (sum === 0) return identityKernel(size);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/**
 * Resamples a kernel onto a new odd size, centre to centre, its content magnified by `scale` (the
 * image scale between two pyramid levels, or from a reduced-scale estimate to full scale),
 * bilinear, non-negative, sum 1.
 */
export function resizeKernel(k: Float64Array, from: number, to: number, scale = (to - 1) / Math.max(from - 1, 1)): Float64Array {
  const out = new Float64Array(to * to);
  const ratio = 1 / scale;
  const cf = (from - 1) / 2;
  const ct = (to - 1) / 2;
  const tap = (x: number, y: number) => (x < 0 || y < 0 || x >= from || y >= from ? 0 : k[y * from + x]!);
  let sum = 0;
  for (let y = 0; y < to; y++) {
    for (let x = 0; x < to; x++) {
      const sx = cf + (x - ct) * ratio;
      const sy = cf + (y - ct) * ratio;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const v = (1 - fx) * (1 - fy) * tap(x0, y0) + fx * (1 - fy) * tap(x0 + 1, y0) +
        (1 - fx) * fy * tap(x0, y0 + 1) + fx * fy * tap(x0 + 1, y0 + 1);
      out[y * to + x] = v;
      sum += v;
    }
  }
  if (!(sum > 0)) return identityKernel(to);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}
