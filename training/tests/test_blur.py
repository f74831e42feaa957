"""Trajectory kernels and the convolution used for training data and the dev benchmark."""
from __future__ import annotations

import numpy as np
import pytest

from sgenet.blur import convolve, synthesize_blur, trajectory_kernel

from conftest import synthetic_image


def _diameter(k: np.ndarray) -> float:
    pts = np.argwhere(k > 1e-6).astype(float)
    return float(np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)).max())


class _RecordingRng:
    """Delegates to a numpy Generator and records the path lengths trajectory_kernel draws."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.lengths = []

    def uniform(self, low=0.0, high=1.0, size=None):
        v = self.rng.uniform(low, high, size)
        if (low, high) == (5, 35):
            self.lengths.append(float(v))
        return v

    def __getattr__(self, name):
        return getattr(self.rng, name)


def test_kernels_nonnegative_normalised_odd_square():
    for seed in range(40):
        k = trajectory_kernel(np.random.default_rng(seed))
        assert k.dtype == np.float32 and k.ndim == 2 and k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
        assert (k >= 0).all()
        assert abs(float(k.sum()) - 1.0) < 1e-5
        assert k.max() < 1.0  # a real path, not a delta


def test_default_lengths_span_5_to_35_px():
    lengths, diameters = [], []
    for seed in range(150):
        rng = _RecordingRng(seed)
        k = trajectory_kernel(rng)
        assert len(rng.lengths) == 1
        lengths.append(rng.lengths[0])
        diameters.append(_diameter(k))
        # The support cannot be wider than the path plus the bilinear splat.
        assert diameters[-1] <= rng.lengths[0] + 2 * np.sqrt(2) + 1e-6
    assert min(lengths) >= 5 and max(lengths) <= 35
    assert min(lengths) < 8 and max(lengths) > 32  # the range is actually used
    assert min(diameters) < 8 and max(diameters) > 20


@pytest.mark.parametrize("length", [5.0, 15.0, 35.0])
def test_explicit_length_bounds_support(length):
    ds = [_diameter(trajectory_kernel(np.random.default_rng(s), length=length)) for s in range(20)]
    assert max(ds) <= length + 2 * np.sqrt(2) + 1e-6


def test_longer_paths_give_wider_kernels():
    mean_d = {L: np.mean([_diameter(trajectory_kernel(np.random.default_rng(s), length=L)) for s in range(20)])
              for L in (5.0, 35.0)}
    assert mean_d[35.0] > 2 * mean_d[5.0]


def _rms_radius(k: np.ndarray) -> float:
    y, x = np.mgrid[:k.shape[0], :k.shape[1]]
    cy, cx = (k * y).sum(), (k * x).sum()
    return float(np.sqrt((k * ((y - cy) ** 2 + (x - cx) ** 2)).sum()))


def test_default_inertia_range_keeps_earlier_runs_stream():
    for seed in range(5):
        implicit = trajectory_kernel(np.random.default_rng(seed), 20.0)
        explicit = trajectory_kernel(np.random.default_rng(seed), 20.0, inertia_range=(0.6, 0.95))
        np.testing.assert_array_equal(implicit, explicit)
    img = synthetic_image(40, 40)
    np.testing.assert_array_equal(synthesize_blur(img, np.random.default_rng(3)),
                                  synthesize_blur(img, np.random.default_rng(3), inertia_range=(0.6, 0.95)))


def test_higher_inertia_sweeps_wider_kernels_of_the_same_length():
    length = 30.0
    rms = {r: [_rms_radius(trajectory_kernel(np.random.default_rng(s), length, inertia_range=r))
               for s in range(30)] for r in ((0.6, 0.65), (0.98, 0.99))}
    assert np.mean(rms[(0.98, 0.99)]) > 1.5 * np.mean(rms[(0.6, 0.65)])
    # No path of length L has an RMS radius above L / 2 (all its mass at the two ends).
    assert max(rms[(0.98, 0.99)]) <= length / 2 + 1
    # Straight-ish paths approach a uniform line segment's L / sqrt(12).
    assert np.median(rms[(0.98, 0.99)]) > 0.5 * length / np.sqrt(12)


def test_fixed_size_kernel():
    k = trajectory_kernel(np.random.default_rng(0), length=10.0, size=31)
    assert k.shape == (31, 31) and abs(float(k.sum()) - 1) < 1e-5


@pytest.mark.parametrize("ksize", [1, 3, 5, 4, 6])
@pytest.mark.parametrize("border", ["reflect", "symmetric", "wrap"])
def test_convolve_delta_is_identity(ksize, border):
    img = synthetic_image(24, 40)
    k = np.zeros((ksize, ksize), np.float32)
    c = (ksize - 1) // 2  # convolve()'s zero shift: the centre of an odd kernel
    k[c, c] = 1.0
    out = convolve(img, k, border=border)
    assert out.shape == img.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, img, atol=1e-5)


def test_convolve_is_true_convolution():
    """A delta one pixel right of centre shifts the image right (convolution, not correlation)."""
    img = synthetic_image(24, 40)
    k = np.zeros((5, 5), np.float32)
    k[2, 3] = 1.0
    out = convolve(img, k)
    np.testing.assert_allclose(out[:, 1:], img[:, :-1], atol=1e-5)


def test_convolve_preserves_mean_and_blurs():
    img = synthetic_image(64, 64)
    k = trajectory_kernel(np.random.default_rng(3), length=15.0)
    out = convolve(img, k, border="wrap")
    assert abs(out.mean() - img.mean()) < 1e-4  # circular border: the mean is exact
    assert np.abs(np.diff(out, axis=1)).mean() < np.abs(np.diff(img, axis=1)).mean()


def test_synthesize_blur_range_and_determinism():
    img = synthetic_image(48, 48)
    a = synthesize_blur(img, np.random.default_rng(7))
    b = synthesize_blur(img, np.random.default_rng(7))
    assert a.shape == img.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)


def test_one_by_one_kernel_is_exact():
    img = np.random.default_rng(3).random((9, 7, 3)).astype(np.float32)
    assert np.array_equal(convolve(img, np.ones((1, 1), np.float32)), img)
    assert np.array_equal(convolve(img, np.full((1, 1), 0.5, np.float32)), img * np.float32(0.5))


def test_unblurred_share_passes_the_photo_through():
    img = synthetic_image(48, 48)
    clean = synthesize_blur(img, np.random.default_rng(1), p_sharp=1.0, max_noise=0.0, p_jpeg=0.0)
    np.testing.assert_array_equal(clean, img)
    noisy = synthesize_blur(img, np.random.default_rng(1), p_sharp=1.0, max_noise=0.02, p_jpeg=0.0)
    assert 0 < np.abs(noisy - img).mean() < 0.02  # noise still applies, blur does not
    blurred = synthesize_blur(img, np.random.default_rng(1), p_sharp=0.0, max_noise=0.0, p_jpeg=0.0)
    assert np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(img, axis=1)).mean()
