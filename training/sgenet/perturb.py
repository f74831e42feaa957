"""Realistic errors of an estimated blur kernel, applied to the true one.

The kernel-guided network trains on photos deconvolved with estimated kernels. Besides the real
estimator's output, part of the training set uses the true kernel with the errors a blind
estimate makes (issue #16, "Training data that looks like the real pipeline"): a shift, a scale,
a dilated or eroded path, a lost faint tail, spurious dots. Every result is a valid PSF:
non-negative, summing to one.
"""
from __future__ import annotations

import numpy as np

PERTURBATIONS = ("shift", "scale", "dilate", "erode", "lost_tail", "spurious_dots", "rotate")


def _resample(k: np.ndarray, side: int, source) -> np.ndarray:
    """A side x side kernel whose tap at offset (y, x) from its centre is ``k`` read bilinearly at
    ``source(y, x)`` from ``k``'s centre (zero outside ``k``), normalised."""
    h, w = k.shape
    c_out, cy, cx = (side - 1) / 2, (h - 1) / 2, (w - 1) / 2
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    sy, sx = source(yy - c_out, xx - c_out)
    sy, sx = sy + cy, sx + cx
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    ay, ax = sy - y0, sx - x0
    out = np.zeros((side, side))
    for dy, dx, wgt in ((0, 0, (1 - ay) * (1 - ax)), (0, 1, (1 - ay) * ax), (1, 0, ay * (1 - ax)), (1, 1, ay * ax)):
        yi, xi = y0 + dy, x0 + dx
        ok = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        out[ok] += wgt[ok] * k[yi[ok], xi[ok]]
    return _normalise(out)


def _normalise(k: np.ndarray) -> np.ndarray:
    k = np.clip(k, 0, None)
    s = k.sum()
    if s <= 0:
        raise ValueError("perturbation removed the whole kernel")
    return (k / s).astype(np.float32)


def _pad(k: np.ndarray, by: int) -> np.ndarray:
    return np.pad(k, by)


def shift(k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Translate by 1-2 px: a blind estimate is known only up to a translation."""
    dy, dx = (int(v) for v in rng.integers(-2, 3, size=2))
    if dy == 0 and dx == 0:
        dx = 1
    p = _pad(k, 2)
    return _normalise(np.roll(p, (dy, dx), axis=(0, 1)))


def scale(k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Resample by 0.8-1.25 about the centre (a path estimated too short or too long)."""
    s = float(rng.uniform(0.8, 1.25))
    side = int(np.ceil(max(k.shape) * max(s, 1))) | 1
    return _resample(k, side, lambda y, x: (y / s, x / s))


def _grey_morph(k: np.ndarray, op) -> np.ndarray:
    p = _pad(k, 1)
    stack = [p[1 + dy:p.shape[0] - 1 + dy, 1 + dx:p.shape[1] - 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return op(np.stack(stack), axis=0)


def dilate(k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thicker path: 3x3 grey dilation blended with the original."""
    a = float(rng.uniform(0.3, 1.0))
    return _normalise((1 - a) * k + a * _grey_morph(k, np.max))


def erode(k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thinner path: 3x3 grey erosion blended with the original (never empty)."""
    a = float(rng.uniform(0.3, 0.8))
    e = _grey_morph(k, np.min)
    if e.sum() < 0.2 * k.sum():
        # A path one or two taps wide erodes to almost nothing: thin it to its brightest core instead.
        e = np.where(k >= k.max() * 0.4, k, 0)
    return _normalise((1 - a) * k / k.sum() + a * e / e.sum())


def lost_tail(k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The faint end of the path cut off: values under 10-30% of the peak dropped."""
    t = float(rng.uniform(0.1, 0.3)) * k.max()
    return _normalise(np.where(k >= t, k, 0))


def spurious_dots(k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1-3 isolated dots of 2-6% of the mass each, away from the path."""
    out = k.astype(np.float64).copy()
    h, w = k.shape
    for _ in range(int(rng.integers(1, 4))):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        out[y, x] += float(rng.uniform(0.02, 0.06))
    return _normalise(out)


def rotate(k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Turn by 3-10 degrees either way about the centre (bilinear): an in-plane rotation of the shake
    that a blind estimate averaged away, or the kernel of a neighbouring region."""
    a = np.deg2rad(float(rng.uniform(3, 10)) * (1 if rng.random() < 0.5 else -1))
    side = int(np.ceil(np.hypot(*k.shape))) | 1
    return _resample(k, side, lambda y, x: (np.cos(a) * y - np.sin(a) * x, np.sin(a) * y + np.cos(a) * x))


def perturb(k: np.ndarray, rng: np.random.Generator, kind: str | None = None) -> tuple[np.ndarray, str]:
    """One perturbation of ``k`` (drawn uniformly unless ``kind`` names it); returns it and its name."""
    kind = kind or PERTURBATIONS[int(rng.integers(len(PERTURBATIONS)))]
    fn = {"shift": shift, "scale": scale, "dilate": dilate, "erode": erode,
          "lost_tail": lost_tail, "spurious_dots": spurious_dots, "rotate": rotate}[kind]
    return fn(np.asarray(k, dtype=np.float64), rng), kind
