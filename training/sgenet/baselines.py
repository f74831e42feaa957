"""Classical baselines for the dev benchmark: sharp's default sharpen, a strong unsharp mask and
non-blind Wiener deconvolution with the true kernel. All take and return HxWx3 float images in
[0, 1] (the caller clips and quantises to 8 bits)."""
from __future__ import annotations

import numpy as np

# sharp().sharpen() without arguments: libvips' fast mild sharpen, a 3x3 integer convolution with
# scale 24 applied to the 8-bit image.
SHARP_MILD_MASK = np.array([[-1, -1, -1], [-1, 32, -1], [-1, -1, -1]], dtype=np.int64)
SHARP_MILD_SCALE = 24


def sharp_mild_sharpen(img_u8: np.ndarray) -> np.ndarray:
    """Equivalent of sharp's ``sharpen()`` default on an HxWx3 uint8 image; returns uint8.

    Exact integer arithmetic: the mask is symmetric, so correlation equals convolution; borders
    replicate the edge pixel (libvips extends with copies of the edge); the sum is divided by 24
    rounding halves up, then clipped to 0..255.
    """
    x = np.pad(img_u8.astype(np.int64), ((1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = img_u8.shape[:2]
    acc = np.zeros((h, w, img_u8.shape[2]), dtype=np.int64)
    for dy in range(3):
        for dx in range(3):
            acc += SHARP_MILD_MASK[dy, dx] * x[dy:dy + h, dx:dx + w]
    out = (acc + SHARP_MILD_SCALE // 2) // SHARP_MILD_SCALE
    return np.clip(out, 0, 255).astype(np.uint8)


def gaussian_kernel1d(sigma: float, truncate: float = 3.0) -> np.ndarray:
    r = int(np.ceil(truncate * sigma))
    t = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-(t ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of an HxWxC float image, reflect border."""
    g = gaussian_kernel1d(sigma)
    r = len(g) // 2
    h, w = img.shape[:2]
    x = np.pad(img.astype(np.float64), ((r, r), (0, 0), (0, 0)), mode="reflect")
    x = sum(g[i] * x[i:i + h] for i in range(len(g)))
    x = np.pad(x, ((0, 0), (r, r), (0, 0)), mode="reflect")
    return sum(g[i] * x[:, i:i + w] for i in range(len(g)))


def unsharp_mask(img: np.ndarray, sigma: float = 2.0, amount: float = 1.5) -> np.ndarray:
    """x + amount * (x - G_sigma * x), clipped to [0, 1]."""
    x = img.astype(np.float64)
    return np.clip(x + amount * (x - gaussian_blur(x, sigma)), 0.0, 1.0)


def psf2otf(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Real-FFT transfer function of ``kernel`` on a ``shape`` grid, centred the way
    ``blur.convolve`` centres it: element ((kh-1)//2, (kw-1)//2) is the zero shift (the centre
    of an odd kernel)."""
    kh, kw = kernel.shape
    pad = np.zeros(shape, dtype=np.float64)
    pad[:kh, :kw] = kernel
    pad = np.roll(pad, (-((kh - 1) // 2), -((kw - 1) // 2)), axis=(0, 1))
    return np.fft.rfft2(pad)


def wiener_deconvolve(img: np.ndarray, kernel: np.ndarray, nsr: float) -> np.ndarray:
    """Non-blind Wiener deconvolution with a constant noise-to-signal ratio.

    The image is reflect-padded by the kernel size on every side before the FFT (so the circular
    wrap-around falls in the padding) and cropped back; the result is clipped to [0, 1].
    """
    kh, kw = kernel.shape
    h, w = img.shape[:2]
    p = max(kh, kw)
    x = np.pad(img.astype(np.float64), ((p, p), (p, p), (0, 0)), mode="reflect")
    shape = x.shape[:2]
    K = psf2otf(kernel, shape)
    G = np.conj(K) / (np.abs(K) ** 2 + nsr)
    X = np.fft.rfft2(x, axes=(0, 1))
    out = np.fft.irfft2(X * G[..., None], s=shape, axes=(0, 1))
    return np.clip(out[p:p + h, p:p + w], 0.0, 1.0)
