"""Synthetic camera-shake blur: trajectory kernels, uniform and non-uniform blur, noise, JPEG.

The trajectory generator follows the idea of Boracchi & Foi (2012): a camera path is a random walk
with inertia (velocity persists), small random accelerations and occasional jerks (impulsive
changes of direction). The path is rasterised with sub-pixel (bilinear) splatting into a kernel
that is non-negative and sums to one.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


# Camera inertia per path step of the trajectory kernels before session 6 (and of the sweeps and
# tests that compare with them): curled paths.
DEFAULT_INERTIA = (0.6, 0.95)


def inertia_range_problem(inertia_range: tuple[float, float]) -> str | None:
    """Why ``inertia_range`` is not usable as (MIN, MAX), or None when it is."""
    lo, hi = inertia_range
    if 0 <= lo <= hi < 1:
        return None
    return (f"needs 0 <= MIN <= MAX < 1 (got {lo:g} {hi:g}): at 1 the camera never turns and the "
            "path is a straight line whatever its length; try 0.7 0.99")


def trajectory_kernel(rng: np.random.Generator, length: float | None = None,
                      steps: int = 96, size: int | None = None,
                      inertia_range: tuple[float, float] = DEFAULT_INERTIA) -> np.ndarray:
    """A camera-shake kernel whose path length is ``length`` px (default: uniform in [5, 35]).

    ``inertia_range`` bounds how much of its velocity the camera keeps per step. The default
    curls a 30 px path into a blob of about 3 px RMS radius; recorded shakes (Levin et al.) spread
    2.5 to 9.4 px, which needs inertia up to about 0.99 (a straighter, sweeping path).
    """
    if length is None:
        length = float(rng.uniform(5, 35))
    inertia = rng.uniform(*inertia_range)
    jerk_prob = rng.uniform(0.0, 0.08)
    v = rng.normal(size=2)
    v /= np.linalg.norm(v) + 1e-12
    pos = np.zeros(2)
    pts = [pos.copy()]
    for _ in range(steps):
        acc = rng.normal(size=2) * (1 - inertia) * 2.0
        if rng.random() < jerk_prob:
            acc += rng.normal(size=2) * 2.0
        v = inertia * v + acc
        v /= np.linalg.norm(v) + 1e-12  # unit speed: the path length is set by the scaling below
        pos = pos + v
        pts.append(pos.copy())
    pts = np.asarray(pts)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()
    pts = pts * (length / max(seg, 1e-6))
    # Exposure is not uniform along the path: vary dwell time smoothly.
    dwell = 1.0 + 0.8 * np.sin(np.linspace(0, rng.uniform(1, 4) * np.pi, len(pts)) + rng.uniform(0, 6.3))
    dwell = np.clip(dwell, 0.1, None)

    pts -= (pts.min(axis=0) + pts.max(axis=0)) / 2  # centre the bounding box
    extent = int(np.ceil(np.abs(pts).max())) + 1
    ksize = size or (2 * extent + 1)
    c = ksize // 2
    k = np.zeros((ksize, ksize), dtype=np.float64)
    for (x, y), wgt in zip(pts, dwell):
        fx, fy = x + c, y + c
        x0, y0 = int(np.floor(fx)), int(np.floor(fy))
        ax, ay = fx - x0, fy - y0
        for dx, dy, w in ((0, 0, (1 - ax) * (1 - ay)), (1, 0, ax * (1 - ay)),
                          (0, 1, (1 - ax) * ay), (1, 1, ax * ay)):
            xx, yy = x0 + dx, y0 + dy
            if 0 <= xx < ksize and 0 <= yy < ksize:
                k[yy, xx] += w * wgt
    k /= k.sum()
    return k.astype(np.float32)


def _fft_convolve_valid(padded: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'valid' 2-D convolution of each channel of an HxWxC array via the FFT."""
    kh, kw = kernel.shape
    H, W = padded.shape[:2]
    fh, fw = H + kh - 1, W + kw - 1
    K = np.fft.rfft2(kernel, s=(fh, fw))
    X = np.fft.rfft2(padded, s=(fh, fw), axes=(0, 1))
    full = np.fft.irfft2(X * K[..., None], s=(fh, fw), axes=(0, 1))
    return full[kh - 1:H, kw - 1:W]


def convolve(img: np.ndarray, kernel: np.ndarray, border: str = "reflect") -> np.ndarray:
    """Blur an HxWxC float image with ``kernel`` (true convolution, kernel centred, same size)."""
    kh, kw = kernel.shape
    if kh == kw == 1:  # a scaled delta: exact, without the FFT's rounding
        return (img * np.float32(kernel[0, 0])).astype(np.float32)
    ph, pw = kh // 2, kw // 2
    mode = {"reflect": "reflect", "symmetric": "symmetric", "wrap": "wrap"}[border]
    padded = np.pad(img, ((ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)), mode=mode)
    return _fft_convolve_valid(padded, kernel).astype(np.float32)


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)


def smooth_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth 0..1 blending mask: a soft ramp at a random angle and position."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    t = (np.cos(a) * (xx - w / 2) + np.sin(a) * (yy - h / 2)) / max(h, w)
    t = (t - rng.uniform(-0.3, 0.3)) * rng.uniform(2, 8)
    return (1 / (1 + np.exp(-t)))[..., None]


def jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float32) / 255


def synthesize_blur(sharp: np.ndarray, rng: np.random.Generator, *, p_linear: float = 0.3,
                    p_nonuniform: float = 0.2, p_jpeg: float = 0.2,
                    max_noise: float = 0.02, p_sharp: float = 0.0,
                    lengths: tuple[float, float] = (5, 35),
                    inertia_range: tuple[float, float] = DEFAULT_INERTIA) -> np.ndarray:
    """Blurry version of an HxWx3 float sharp image in [0, 1] (same size, reflect border);
    camera paths are ``lengths`` px long (uniform), with inertia drawn from ``inertia_range``.

    A share ``p_sharp`` of crops is not blurred at all (noise and JPEG still apply): photos that are
    already sharp reach a deblurrer too, and it must learn to leave them alone.
    """
    # Drawn only when enabled, so runs without it keep the random stream of earlier sessions.
    if p_sharp > 0 and rng.random() < p_sharp:
        blurry = sharp.copy()
    else:
        blurry = _camera_shake(sharp, rng, p_linear, p_nonuniform, lengths, inertia_range)
    blurry = blurry + rng.normal(0, rng.uniform(0, max_noise), blurry.shape)
    blurry = np.clip(blurry, 0, 1)
    if rng.random() < p_jpeg:
        blurry = jpeg_roundtrip(blurry, int(rng.integers(60, 96)))
    return blurry.astype(np.float32)


def _camera_shake(sharp: np.ndarray, rng: np.random.Generator, p_linear: float, p_nonuniform: float,
                  lengths: tuple[float, float], inertia_range: tuple[float, float]) -> np.ndarray:
    def shake() -> np.ndarray:
        return trajectory_kernel(rng, float(rng.uniform(*lengths)), inertia_range=inertia_range)

    linear = rng.random() < p_linear
    src = srgb_to_linear(sharp) if linear else sharp
    blurry = convolve(src, shake())
    if rng.random() < p_nonuniform:
        other = convolve(src, shake())
        m = smooth_mask(rng, *sharp.shape[:2])
        blurry = m * blurry + (1 - m) * other
    return linear_to_srgb(blurry) if linear else blurry
