"""Shared fixtures. Tests run on tiny synthetic data; only tests marked with ``needs_shared``
read ../shared/datasets (and skip with a message when it is absent)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from sgenet.blur import trajectory_kernel

TRAINING_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TRAINING_DIR.parent
SHARED = REPO_ROOT.parent / "shared" / "datasets"

# Keep CPU use modest: CI runners and dev machines may be training at the same time.
torch.set_num_threads(1)


def synthetic_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """HxWx3 float32 in [0, 1]: smooth colour gradients, discs and bars (sharp edges)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([0.5 + 0.3 * np.sin(xx / (5 + 5 * c) + yy / (7 + 3 * c) + c) for c in range(3)], -1)
    for _ in range(6):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(3, max(h, w) / 4)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0, 1, 3)
    for _ in range(4):
        x0 = int(rng.integers(0, w - 2))
        img[:, x0:x0 + 2] = rng.uniform(0, 1, 3)
    return np.clip(img, 0, 1).astype(np.float32)


class BoxFilter(torch.nn.Module):
    """Mean over a (2r+1)^2 window with zero padding: each output depends on exactly r px around it,
    a model of known receptive field."""

    def __init__(self, r: int):
        super().__init__()
        self.r = r

    def forward(self, x):
        k = torch.ones(x.shape[1], 1, 2 * self.r + 1, 2 * self.r + 1) / (2 * self.r + 1) ** 2
        return torch.nn.functional.conv2d(x, k, padding=self.r, groups=x.shape[1])


@pytest.fixture
def tiny_benchmark(tmp_path) -> tuple[Path, Path]:
    """A 2-image x 2-kernel stand-in for Kodak24 x Levin09 (project-made kernels, synthetic images)."""
    data = tmp_path / "images"
    data.mkdir()
    for i, (h, w) in enumerate([(48, 64), (40, 56)]):
        Image.fromarray((synthetic_image(h, w, seed=i) * 255 + 0.5).astype(np.uint8)).save(data / f"img{i}.png")
    ks = [trajectory_kernel(np.random.default_rng(s), length=L) for s, L in ((1, 7.0), (2, 11.0))]
    spec = {"source": "test", "kernels": [{"size": list(k.shape), "data": k.ravel().tolist()} for k in ks]}
    kpath = tmp_path / "kernels.json"
    kpath.write_text(json.dumps(spec))
    return data, kpath


def shared_available() -> bool:
    return (SHARED / "val" / "Kodak24").is_dir() and (SHARED / "kernels" / "levin09.json").is_file()
