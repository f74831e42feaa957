"""Training pairs synthesised on the fly: random crop + flips/rotations of a sharp photo, then
camera-shake blur, noise and optional JPEG (see blur.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .blur import synthesize_blur

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def list_images(folder: str | Path) -> list[Path]:
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no images under {folder}; pass --data pointing at a folder of photos")
    return files


def load_rgb(path: str | Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


def augment(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    if rng.random() < 0.5:
        crop = crop[::-1]
    return np.rot90(crop, int(rng.integers(4)))


class BlurPairSampler:
    """Keeps every sharp photo in memory (uint8) and yields (blurry, sharp) NCHW batches."""

    def __init__(self, folder: str | Path, crop: int, seed: int = 0,
                 lengths: tuple[float, float] = (5, 35), **blur_options: float | tuple[float, float]):
        self.images = [load_rgb(p) for p in list_images(folder)]
        self.images = [im for im in self.images if min(im.shape[:2]) >= crop]
        if not self.images:
            raise ValueError(f"no image in {folder} is at least {crop}px on its short side")
        self.crop = crop
        self.lengths = lengths
        self.blur_options = blur_options  # forwarded to synthesize_blur (p_jpeg, p_nonuniform...)
        self.rng = np.random.default_rng(seed)

    def pair(self, crop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        crop = crop or self.crop
        im = self.images[int(self.rng.integers(len(self.images)))]
        y = int(self.rng.integers(im.shape[0] - crop + 1))
        x = int(self.rng.integers(im.shape[1] - crop + 1))
        sharp = augment(im[y:y + crop, x:x + crop], self.rng).astype(np.float32) / 255
        return synthesize_blur(sharp, self.rng, lengths=self.lengths, **self.blur_options), sharp

    def batch(self, n: int, crop: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = [self.pair(crop) for _ in range(n)]
        to_t = lambda arrs: torch.from_numpy(np.stack(arrs).transpose(0, 3, 1, 2).copy())
        return to_t([b for b, _ in pairs]), to_t([s for _, s in pairs])


class BankPairSampler:
    """(deconvolved, sharp) NCHW batches from a restoration bank (make_restoration_bank.py): the
    kernel-guided network's input is what core's deconvolution made of a blurred photo, its target
    the sharp photo. Same interface as BlurPairSampler (``rng``, ``images``, ``pair``, ``batch``).

    Only finished items are used (those with a ``<id>.done.json``); crops are aligned, since the
    deconvolved image has the photo's size, and both get the same augmentation.
    """

    def __init__(self, bank: str | Path, crop: int, seed: int = 0):
        bank = Path(bank).expanduser()
        items = [json.loads(line) for line in (bank / "items.jsonl").read_text().splitlines() if line.strip()]
        done = [it for it in items if (bank / "deconvolved" / f"{it['id']}.done.json").exists()]
        photos: dict[str, np.ndarray] = {}
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        for it in done:
            sharp = photos.get(it["photo"])
            if sharp is None:
                sharp = photos[it["photo"]] = load_rgb(it["photo"])
            restored = load_rgb(bank / "deconvolved" / f"{it['id']}.deconvolved.png")
            if restored.shape != sharp.shape:
                raise ValueError(f"{it['id']}: deconvolved {restored.shape} and sharp {sharp.shape} differ")
            if min(sharp.shape[:2]) >= crop:
                self.pairs.append((restored, sharp))
        if not self.pairs:
            raise ValueError(f"no finished item in {bank} is at least {crop}px on its short side: run make_restoration_bank.py")
        self.images = [s for _, s in self.pairs]
        self.crop = crop
        self.rng = np.random.default_rng(seed)

    def pair(self, crop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        crop = crop or self.crop
        restored, sharp = self.pairs[int(self.rng.integers(len(self.pairs)))]
        y = int(self.rng.integers(sharp.shape[0] - crop + 1))
        x = int(self.rng.integers(sharp.shape[1] - crop + 1))
        both = np.concatenate([restored[y:y + crop, x:x + crop], sharp[y:y + crop, x:x + crop]], axis=2)
        both = augment(both, self.rng).astype(np.float32) / 255
        return np.ascontiguousarray(both[..., :3]), np.ascontiguousarray(both[..., 3:])

    def batch(self, n: int, crop: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = [self.pair(crop) for _ in range(n)]
        to_t = lambda arrs: torch.from_numpy(np.stack(arrs).transpose(0, 3, 1, 2).copy())
        return to_t([b for b, _ in pairs]), to_t([s for _, s in pairs])
