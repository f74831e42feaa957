"""PSNR and SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5), on RGB in [0, 1]."""
from __future__ import annotations

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def _filter_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    n = len(g)
    h, w = x.shape
    rows = sum(g[i] * x[i:h - n + 1 + i] for i in range(n))
    return sum(g[i] * rows[:, i:w - n + 1 + i] for i in range(n))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM over channels of HxWxC images in [0, 1]."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    t = np.arange(-5, 6)
    g = np.exp(-(t ** 2) / (2 * 1.5 ** 2))
    g /= g.sum()
    vals = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        mx, my = _filter_valid(x, g), _filter_valid(y, g)
        sxx = _filter_valid(x * x, g) - mx * mx
        syy = _filter_valid(y * y, g) - my * my
        sxy = _filter_valid(x * y, g) - mx * my
        m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(m.mean())
    return float(np.mean(vals))


def shifted_sse(a: np.ndarray, b: np.ndarray, radius: int = 5, crop: int = 5) -> tuple[float, int, tuple[int, int]]:
    """Smallest sum of squared errors between ``a`` and ``b`` shifted by an integer (dy, dx) within
    ±``radius``, over ``a``'s interior cropped by ``crop`` px (blind deblurring finds the image only
    up to a translation: Levin et al. 2009, Köhler et al. 2012). Returns (sse, samples, (dy, dx))."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    h, w = a.shape[:2]
    m = max(radius, crop)
    ref = a64[m:h - m, m:w - m]
    best = (float("inf"), ref.size, (0, 0))
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            cand = b64[m + dy:h - m + dy, m + dx:w - m + dx]
            sse = float(np.sum((ref - cand) ** 2))
            if sse < best[0]:
                best = (sse, ref.size, (dy, dx))
    return best


def psnr_aligned(a: np.ndarray, b: np.ndarray, radius: int = 5, crop: int = 5) -> float:
    """PSNR (peak 1) at the best integer shift within ±radius, interior cropped by ``crop`` px."""
    sse, n, _ = shifted_sse(a, b, radius, crop)
    return float("inf") if sse == 0 else 10 * np.log10(n / sse)
