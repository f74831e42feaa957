"""PSNR / SSIM sanity."""
from __future__ import annotations

import math

import numpy as np

from sgenet.metrics import psnr, ssim

from conftest import synthetic_image


def test_identical_images():
    img = synthetic_image(32, 48)
    assert psnr(img, img) == math.inf
    assert abs(ssim(img, img) - 1.0) < 1e-9


def test_psnr_known_value():
    a = np.zeros((16, 16, 3))
    assert abs(psnr(a, a + 0.1) - 20.0) < 1e-9  # mse 0.01 -> 20 dB
    assert abs(psnr(a, a + 0.01) - 40.0) < 1e-9


def test_degradation_lowers_scores_monotonically():
    img = synthetic_image(48, 48)
    rng = np.random.default_rng(0)
    noise = rng.normal(size=img.shape)
    p = [psnr(img, np.clip(img + s * noise, 0, 1)) for s in (0.01, 0.05, 0.2)]
    s = [ssim(img, np.clip(img + s * noise, 0, 1)) for s in (0.01, 0.05, 0.2)]
    assert p[0] > p[1] > p[2]
    assert 1 > s[0] > s[1] > s[2] > -1


def test_symmetry_and_uint8_inputs_not_mixed():
    a, b = synthetic_image(32, 32, 0), synthetic_image(32, 32, 1)
    assert abs(psnr(a, b) - psnr(b, a)) < 1e-12
    assert abs(ssim(a, b) - ssim(b, a)) < 1e-12


def test_psnr_aligned_finds_a_planted_shift():
    from sgenet.metrics import psnr_aligned, shifted_sse
    rng = np.random.default_rng(3)
    img = rng.random((40, 50, 3))
    moved = np.roll(img, shift=(2, -3), axis=(0, 1))
    sse, n, shift = shifted_sse(img, moved)
    assert shift == (2, -3) and sse == 0 and n == 30 * 40 * 3
    assert psnr_aligned(img, moved) == float("inf")
    # a shift beyond the radius is not found: the aligned PSNR stays low
    far = np.roll(img, shift=(7, 0), axis=(0, 1))
    assert psnr_aligned(img, far) < 15
