"""Classical baselines of the dev benchmark."""
from __future__ import annotations

import numpy as np
import pytest

from sgenet.baselines import gaussian_blur, psf2otf, sharp_mild_sharpen, unsharp_mask, wiener_deconvolve
from sgenet.benchmark import to_float, to_uint8
from sgenet.blur import convolve, trajectory_kernel
from sgenet.metrics import psnr

from conftest import synthetic_image


@pytest.mark.parametrize("seed,length", [(0, 9.0), (1, 17.0), (2, 25.0)])
def test_wiener_with_true_kernel_beats_blurry(seed, length):
    sharp = to_float(to_uint8(synthetic_image(96, 128, seed=seed)))
    rng = np.random.default_rng(seed)
    k = trajectory_kernel(rng, length=length)
    blurry = to_float(to_uint8(convolve(sharp, k) + rng.normal(0, 0.01, sharp.shape)))
    restored = to_float(to_uint8(wiener_deconvolve(blurry, k, nsr=2e-2)))
    # PSNR only: on these flat synthetic images Wiener's amplified noise costs SSIM (not so on photos).
    assert psnr(sharp, restored) > psnr(sharp, blurry) + 1.0


def test_wiener_delta_kernel_noise_free_is_identity():
    img = synthetic_image(40, 56)
    k = np.zeros((5, 5))
    k[2, 2] = 1
    np.testing.assert_allclose(wiener_deconvolve(img, k, nsr=1e-9), img, atol=1e-6)


def test_psf2otf_matches_convolve_on_a_circular_image():
    img = synthetic_image(32, 48)[..., :1].astype(np.float64)
    for shape in [(5, 5), (7, 3), (4, 6)]:
        k = np.random.default_rng(0).random(shape)
        k /= k.sum()
        ref = convolve(img, k, border="wrap")[..., 0]
        got = np.fft.irfft2(np.fft.rfft2(img[..., 0]) * psf2otf(k, img.shape[:2]), s=img.shape[:2])
        np.testing.assert_allclose(got, ref, atol=1e-5)


def test_sharp_mild_sharpen_matches_the_3x3_mask():
    img = to_uint8(synthetic_image(20, 24))
    out = sharp_mild_sharpen(img)
    assert out.dtype == np.uint8 and out.shape == img.shape
    x = img.astype(np.int64)
    for y, xx in [(10, 12), (1, 1), (5, 20), (18, 3)]:
        acc = 32 * x[y, xx] - (x[y - 1:y + 2, xx - 1:xx + 2].sum(axis=(0, 1)) - x[y, xx])
        want = np.clip(np.floor(acc / 24 + 0.5), 0, 255).astype(np.uint8)  # exact for /24: no .5 ties lost
        np.testing.assert_array_equal(out[y, xx], want)
    corner = sharp_mild_sharpen(np.pad(img[:3, :3], ((1, 1), (1, 1), (0, 0)), mode="edge"))[1, 1]
    np.testing.assert_array_equal(out[0, 0], corner)  # edge-replicated border
    flat = np.full((8, 8, 3), 77, np.uint8)
    np.testing.assert_array_equal(sharp_mild_sharpen(flat), flat)  # the mask sums to 1


def test_unsharp_mask_and_gaussian():
    img = synthetic_image(32, 32)
    flat = np.full((16, 16, 3), 0.4)
    np.testing.assert_allclose(gaussian_blur(flat, 2.0), flat, atol=1e-12)
    np.testing.assert_allclose(unsharp_mask(flat), flat, atol=1e-12)
    out = unsharp_mask(img, 2.0, 1.5)
    assert out.min() >= 0 and out.max() <= 1
    assert np.abs(np.diff(out, axis=1)).mean() > np.abs(np.diff(img, axis=1)).mean()  # sharper edges
