"""The deterministic dev benchmark: Kodak24 x the 8 Levin09 kernels (192 pairs).

Every sharp image is blurred with every kernel (image-major order: image 0 with kernels 0..7, then
image 1, ...) by true convolution with a reflect border (``blur.convolve``). Gaussian noise with
sigma 0.01 is drawn from one ``numpy.random.default_rng(0)`` stream in that fixed order (one
HxWx3 float64 draw per pair), the result is clipped to [0, 1] and quantised to 8 bits exactly as a
PNG file would store it (``floor(255 x + 0.5)``). Because the noise stream is consumed in pair
order, the first N pairs are the same whatever N is (``--limit`` gives a prefix of the full set).

Pairs are produced in memory. The benchmark never writes derived images into the repository (the
datasets are third-party; see ``shared/datasets/README.md``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .blur import convolve
from .data import list_images, load_rgb

NOISE_SIGMA = 0.01
SEED = 0
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "datasets" / "val" / "Kodak24"
DEFAULT_KERNELS = REPO_ROOT.parent / "shared" / "datasets" / "kernels" / "levin09.json"


@dataclass(frozen=True)
class BenchPair:
    index: int            # position in the benchmark order (0 .. n_images * n_kernels - 1)
    image_name: str       # file name of the sharp image
    kernel_index: int     # index into the kernel list
    sharp: np.ndarray     # HxWx3 uint8 ground truth
    blurry: np.ndarray    # HxWx3 uint8 degraded input (as stored in an 8-bit PNG)
    kernel: np.ndarray    # kh x kw float64 PSF, sums to 1 (the true kernel, for non-blind methods)


def load_kernels(path: str | Path) -> list[np.ndarray]:
    """Kernels from a JSON file {"kernels": [{"size": [h, w], "data": [row-major floats]}, ...]},
    each renormalised to sum to 1."""
    spec = json.loads(Path(path).read_text())
    kernels = []
    for i, k in enumerate(spec["kernels"]):
        h, w = (int(v) for v in k["size"])
        arr = np.asarray(k["data"], dtype=np.float64)
        if arr.size != h * w:
            raise ValueError(f"kernel {i} in {path}: {arr.size} values for size {h}x{w}")
        arr = arr.reshape(h, w)
        if (arr < 0).any() or arr.sum() <= 0:
            raise ValueError(f"kernel {i} in {path} has negative values or zero sum")
        kernels.append(arr / arr.sum())
    if not kernels:
        raise ValueError(f"no kernels in {path}")
    return kernels


def inside_repo(path: str | Path) -> bool:
    """Whether ``path`` lies inside the repository (where nothing derived from the datasets may go)."""
    try:
        Path(path).resolve().relative_to(REPO_ROOT)
        return True
    except ValueError:
        return False


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Clip a float image in [0, 1] and quantise it as an 8-bit PNG stores it."""
    return np.floor(np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def to_float(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) / 255.0


def degrade(sharp: np.ndarray, kernel: np.ndarray, rng: np.random.Generator,
            sigma: float = NOISE_SIGMA) -> np.ndarray:
    """uint8 sharp -> uint8 blurry: reflect-border convolution, Gaussian noise, clip, 8 bits."""
    blurred = convolve(to_float(sharp), kernel, border="reflect").astype(np.float64)
    noisy = blurred + rng.normal(0.0, sigma, size=blurred.shape)
    return to_uint8(noisy)


def count_pairs(data: str | Path, kernels: str | Path) -> int:
    return len(list_images(data)) * len(load_kernels(kernels))


def iter_pairs(data: str | Path = DEFAULT_DATA, kernels: str | Path = DEFAULT_KERNELS,
               limit: int | None = None, sigma: float = NOISE_SIGMA,
               seed: int = SEED) -> Iterator[BenchPair]:
    """Yield the benchmark pairs in their fixed order (the first ``limit`` only, if given)."""
    images = list_images(data)
    ks = load_kernels(kernels)
    total = len(images) * len(ks)
    n = total if limit is None or limit <= 0 else min(limit, total)
    rng = np.random.default_rng(seed)
    idx = 0
    for path in images:
        if idx >= n:
            return
        sharp = load_rgb(path)
        for ki, k in enumerate(ks):
            if idx >= n:
                return
            yield BenchPair(idx, path.name, ki, sharp, degrade(sharp, k, rng, sigma), k)
            idx += 1


def digest(pairs) -> str:
    """SHA-256 over every pair's blurry bytes (and shape): a fingerprint of the benchmark."""
    h = hashlib.sha256()
    for p in pairs:
        h.update(f"{p.index}:{p.image_name}:{p.kernel_index}:{p.blurry.shape}".encode())
        h.update(p.blurry.tobytes())
    return h.hexdigest()
