/**
 * Spectral evidence of a blur kernel: how much of the photo's directional power spectrum the
 * kernel explains, a measure independent of the blind score's deconvolution.
 *
 * A sharp photo's power spectrum falls off with frequency at about the same rate in every
 * direction (the 1/f² law of natural images, van der Schaaf & van Hateren 1996). Camera shake
 * multiplies it by |K(ω)|², which removes high frequencies along the camera's path and not across
 * it: the directional loss of high frequencies. If `kernel` is the photo's blur, dividing the
 * photo's spectrum by |K|² leaves a spectrum that is again the same in every direction; if it is
 * not (a sharp photo's spurious kernel), it adds the directions the kernel has and the photo
 * lacks. Implements, on the luminance plane:
 *
 *   1. welchSpectrum   S(ω): the mean power of Hann-windowed patches, half overlapping (Welch 1967)
 *   2. noiseFloor      N: the median of S above 0.4 cycles/px, where a photo holds mostly noise
 *   3. angularMisfit   per radial band, over the bins where S ≥ 4N (signal, not noise): the variance
 *                      of log S (the identity's misfit) and of log S − log max(|K|², 0.01) (the
 *                      kernel's); mostly across directions, though the fall-off within a band's
 *                      width adds the same share to both
 *   4. evidence        1 − Σ kernel misfit / Σ identity misfit, clamped to [0, 1]
 *
 * Measured before it was used (training log, session 11): on real shaken photos with the
 * estimator's kernel, median 0.35 (16 photos of `real`), 0.54 (48 of `real-kohler`), 0.40 (96 of
 * `real-lai`); on the sharp noisy photos whose estimate is a path rather than a dot, up to 0.5, so
 * it is evidence beside others, never alone.
 */
import { kernelSpectrum, RealSpectrum } from '../fft/real.js';
import type { Plane } from '../pixels/planes.js';

/** Patch side of the spectrum: fine enough in frequency for a 61 px kernel's structure. */
const PATCH = 128;
/** A larger patch for kernels too large for {@link PATCH} (their ripples are finer). */
const LARGE_PATCH = 256;
/** At most this many patches are averaged (spread evenly over the plane): the cost stays bounded. */
const MAX_PATCHES = 256;
/** Lowest frequency counted, in bins of the patch's spectrum (the first hold its mean and window). */
const LOW_CUT = 2;
/** Frequency above which the spectrum is taken for noise (cycles per pixel). */
const NOISE_BAND = 0.4;
/** A bin counts as signal when its power is this many times the noise floor. */
const SIGNAL_TO_NOISE = 4;
/** |K|² below this is taken as this: a kernel's zeros are hidden by noise, not infinitely deep. */
const KERNEL_FLOOR = 0.01;
/** Radial bands between the low cut and 0.5 cycles per pixel. */
const BANDS = 12;
/** A band is counted with at least this many signal bins. */
const MIN_BAND_BINS = 16;

/**
 * The spectral evidence (0 to 1) that `kernel` (a `size` x `size` unit-sum kernel on the plane's
 * scale) blurred `plane`. 0 when the plane is too small for the kernel, flat, or all noise.
 */
export function spectralEvidence(plane: Plane, kernel: ArrayLike<number>, size: number): number {
  const side = size * 2 < PATCH ? PATCH : LARGE_PATCH;
  if (plane.width < side || plane.height < side || size * 2 >= side) return 0;
  const power = welchSpectrum(plane, side);
  const floor = noiseFloor(power, side);
  const otf = kernelSpectrum(kernel, size, size, side, side);
  const { kernelMisfit, identityMisfit } = angularMisfit(power, otf, floor, side);
  if (!(identityMisfit > 0)) return 0;
  const evidence = 1 - kernelMisfit / identityMisfit;
  return Number.isFinite(evidence) ? Math.max(0, Math.min(1, evidence)) : 0;
}

/** Step 1: the mean power spectrum of Hann-windowed, mean-removed patches (a half spectrum). */
function welchSpectrum(plane: Plane, side: number): Float64Array {
  const hann = new Float64Array(side);
  for (let i = 0; i < side; i++) hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / side);
  const starts = (length: number, count: number) => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(count > 1 ? Math.round((i * (length - side)) / (count - 1)) : 0);
    return out;
  };
  // Too many patches: fewer, still spread from edge to edge (the estimate needs hundreds, not thousands).
  const full = (length: number) => Math.floor((length - side) / (side / 2)) + 1;
  const keep = Math.ceil(Math.sqrt((full(plane.width) * full(plane.height)) / MAX_PATCHES));
  const xs = starts(plane.width, Math.ceil(full(plane.width) / keep));
  const ys = starts(plane.height, Math.ceil(full(plane.height) / keep));
  const spectrum = new RealSpectrum(side, side);
  const power = new Float64Array(spectrum.re.length);
  const patch = new Float64Array(side * side);
  for (const y0 of ys) {
    for (const x0 of xs) {
      let mean = 0;
      for (let y = 0; y < side; y++) {
        const from = (y0 + y) * plane.width + x0;
        for (let x = 0; x < side; x++) mean += plane.data[from + x]!;
      }
      mean /= side * side;
      for (let y = 0; y < side; y++) {
        const from = (y0 + y) * plane.width + x0;
        for (let x = 0; x < side; x++) patch[y * side + x] = (plane.data[from + x]! - mean) * hann[y]! * hann[x]!;
      }
      spectrum.forward(patch);
      for (let i = 0; i < power.length; i++) power[i]! += spectrum.re[i]! ** 2 + spectrum.im[i]! ** 2;
    }
  }
  for (let i = 0; i < power.length; i++) power[i]! /= xs.length * ys.length;
  return power;
}

/** Radial frequency (cycles per pixel) of half-spectrum bin (column u, row v) of a `side` field. */
function radius(u: number, v: number, side: number): number {
  const fv = (v <= side / 2 ? v : v - side) / side;
  return Math.hypot(u / side, fv);
}

/** Step 2: the median power above {@link NOISE_BAND} cycles per pixel. */
function noiseFloor(power: Float64Array, side: number): number {
  const columns = side / 2 + 1;
  const high: number[] = [];
  for (let v = 0; v < side; v++) for (let u = 0; u < columns; u++) if (radius(u, v, side) > NOISE_BAND) high.push(power[v * columns + u]!);
  high.sort((a, b) => a - b);
  // A noise-free plane (a synthetic one) has a floor of FFT rounding: counted as no floor at all,
  // its bins would all be 'signal'.
  let peak = 0;
  for (let i = 0; i < power.length; i++) peak = Math.max(peak, power[i]!);
  return Math.max(high[high.length >> 1] ?? 0, 1e-12 * peak);
}

/** Step 3: the angular variance of log power, bin-weighted over the radial bands, without and with the kernel. */
function angularMisfit(
  power: Float64Array, otf: RealSpectrum, floor: number, side: number,
): { kernelMisfit: number; identityMisfit: number } {
  const columns = side / 2 + 1;
  const low = LOW_CUT / side;
  const width = (0.5 - low) / BANDS;
  // Per band: count, Σ log S, Σ (log S)², and the same for log S − log |K|².
  const n = new Float64Array(BANDS), s1 = new Float64Array(BANDS), s2 = new Float64Array(BANDS);
  const k1 = new Float64Array(BANDS), k2 = new Float64Array(BANDS);
  for (let v = 0; v < side; v++) {
    for (let u = 0; u < columns; u++) {
      // Column 0 holds each vertical frequency twice (rows v and side − v are conjugate): once.
      if (u === 0 && v > side / 2) continue;
      const r = radius(u, v, side);
      const i = v * columns + u;
      const p = power[i]!;
      if (r <= low || r >= 0.5 || !(p >= SIGNAL_TO_NOISE * floor) || p <= 0) continue;
      const band = Math.min(BANDS - 1, Math.floor((r - low) / width));
      const logS = Math.log(p);
      const logK = Math.log(Math.max(otf.re[i]! ** 2 + otf.im[i]! ** 2, KERNEL_FLOOR));
      n[band]! += 1;
      s1[band]! += logS;
      s2[band]! += logS * logS;
      k1[band]! += logS - logK;
      k2[band]! += (logS - logK) ** 2;
    }
  }
  let kernelMisfit = 0, identityMisfit = 0;
  for (let b = 0; b < BANDS; b++) {
    const c = n[b]!;
    if (c < MIN_BAND_BINS) continue;
    // Σ over the band of the squared deviation from the band's mean: count x variance.
    identityMisfit += s2[b]! - (s1[b]! * s1[b]!) / c;
    kernelMisfit += k2[b]! - (k1[b]! * k1[b]!) / c;
  }
  return { kernelMisfit, identityMisfit };
}
