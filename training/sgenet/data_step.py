"""The data step of plug-and-play half-quadratic splitting (DPIR, Zhang et al. 2021, eq. 7), the
twin of core's FFT solver (packages/core/src/fft): same periodic bridge, same kernel placement,
same FFT sizes, so a network trained on its output sees what the Node pipeline hands it.

    x = F⁻¹[(conj(K)·F(y) + α·F(z)) / (|K|² + α)]

solves argmin_x ||k ⊛ x − y||² + α||x − z||² on a periodic field. The photo is not periodic, so
``y`` and ``z`` are first extended with core's smooth bridge (fft/periodic.ts) to a field at least
``kernel side + 8`` px larger (deconvolve/tile.ts: ``bridge = kernel side + 8``).
"""
from __future__ import annotations

import numpy as np


def is_fft_size(n: int) -> bool:
    """2^a·3^b·5^c (core's mixed-radix FFT sizes, fft/fft.ts)."""
    if n < 1:
        return False
    for p in (2, 3, 5):
        while n % p == 0:
            n //= p
    return n == 1


def next_fft_size(n: int) -> int:
    m = max(1, int(np.ceil(n)))
    while not is_fft_size(m):
        m += 1
    return m


def next_real_fft_width(n: int) -> int:
    """Even, with half of it an FFT size (core's real FFT packs two real rows in one complex one)."""
    m = max(2, int(np.ceil(n)))
    if m % 2:
        m += 1
    while not is_fft_size(m // 2):
        m += 2
    return m


def _reflect_index(i: np.ndarray, n: int) -> np.ndarray:
    """Whole-sample mirror (…2 1 | 0 1 2 … n-1 | n-2 …), as pixels/image.ts reflectIndex."""
    if n == 1:
        return np.zeros_like(i)
    period = 2 * (n - 1)
    i = np.mod(i, period)
    return np.where(i >= n, period - i, i)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    return t * t * (3 - 2 * t)


def periodic_extend(src: np.ndarray, field_w: int, field_h: int) -> np.ndarray:
    """An HxW(xC) image at the top-left of a field_h x field_w periodic field, the rest a smooth
    bridge blending the mirror at the near edge with the mirror at the far, wrapped edge."""
    h, w = src.shape[:2]
    if field_w < w or field_h < h:
        raise ValueError(f"field {field_w}x{field_h} is smaller than the image {w}x{h}")
    pad_x, pad_y = field_w - w, field_h - h
    out = np.zeros((field_h, field_w) + src.shape[2:], dtype=np.float64)
    out[:h, :w] = src
    if pad_x:
        p = np.arange(pad_x)
        near = _reflect_index(w - 2 - p, w)
        far = _reflect_index(pad_x - p, w)
        t = _smoothstep((p + 1) / (pad_x + 1)).reshape((1, -1) + (1,) * (src.ndim - 2))
        out[:h, w:] = (1 - t) * src[:, near] + t * src[:, far]
    if pad_y:
        p = np.arange(pad_y)
        near = _reflect_index(h - 2 - p, h)
        far = _reflect_index(pad_y - p, h)
        t = _smoothstep((p + 1) / (pad_y + 1)).reshape((-1, 1) + (1,) * (src.ndim - 2))
        out[h:] = (1 - t) * out[near] + t * out[far]
    return out


def kernel_otf(kernel: np.ndarray, field_w: int, field_h: int) -> np.ndarray:
    """rfft2 of the kernel placed with its centre ((k-1)>>1) at the origin (fft/real.ts kernelSpectrum)."""
    kh, kw = kernel.shape
    if kw > field_w or kh > field_h:
        raise ValueError(f"kernel {kw}x{kh} exceeds the FFT field {field_w}x{field_h}")
    field = np.zeros((field_h, field_w))
    cy, cx = (kh - 1) >> 1, (kw - 1) >> 1
    rows = (np.arange(kh) - cy) % field_h
    cols = (np.arange(kw) - cx) % field_w
    field[np.ix_(rows, cols)] = kernel
    return np.fft.rfft2(field)


def field_size(w: int, h: int, kernel: np.ndarray) -> tuple[int, int]:
    """The FFT field of a w x h window deconvolved with ``kernel`` (deconvolve/tile.ts)."""
    bridge = max(kernel.shape) + 8
    return next_real_fft_width(w + bridge), next_fft_size(h + bridge)


def hqs_data_step(y: np.ndarray, kernel: np.ndarray, alpha: float, z: np.ndarray | None = None) -> np.ndarray:
    """argmin_x ||k ⊛ x − y||² + α||x − z||² for an HxW or HxWxC image (z defaults to y): the
    data step of one HQS iteration. Returns float32 of y's shape."""
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    z = y if z is None else z
    h, w = y.shape[:2]
    fw, fh = field_size(w, h, kernel)
    K = kernel_otf(np.asarray(kernel, np.float64), fw, fh)
    if y.ndim == 3:
        K = K[..., None]
    Y = np.fft.rfft2(periodic_extend(y, fw, fh), axes=(0, 1))
    Z = Y if z is y else np.fft.rfft2(periodic_extend(z, fw, fh), axes=(0, 1))
    X = (np.conj(K) * Y + alpha * Z) / (np.abs(K) ** 2 + alpha)
    x = np.fft.irfft2(X, s=(fh, fw), axes=(0, 1))
    return x[:h, :w].astype(np.float32)


def dpir_sigmas(sigma_noise: float, iterations: int, sigma_start: float = 49 / 255) -> np.ndarray:
    """σ_k log-spaced from ``sigma_start`` down to the noise level over the iterations (DPIR §4.1);
    one iteration uses the start's geometric mean with the noise level."""
    end = max(sigma_noise, 1e-3)
    start = max(sigma_start, end)
    if iterations == 1:
        return np.array([np.sqrt(start * end)])
    return np.geomspace(start, end, iterations)


ONE_PASS_WEIGHT = 0.12  # λ of one-pass PnP, what deblur() runs: core's PNP_ONE_PASS_WEIGHT (deconvolve/pnp.ts)
NOISE_FLOOR = 1.5 / 255  # least σ_n deblur()'s data step regularises with: core's DEFAULT_NOISE_FLOOR (deconvolve/options.ts)


def hqs_alpha(sigma_noise: float, sigma_k: float, weight: float = 0.23) -> float:
    """α_k = weight·σ_n²/σ_k² (DPIR's μ_k with λ = 0.23), floored so a noiseless photo stays stable."""
    return max(weight * max(sigma_noise, 1e-3) ** 2 / sigma_k ** 2, 1e-5)
