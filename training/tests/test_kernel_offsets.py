"""kernel_offsets.py: the centring rules and the alignment they are scored by."""
import numpy as np

from kernel_offsets import best_shift, centre_of_mass, centred, trimmed_support_midpoint


def test_best_shift_recovers_a_planted_shift():
    rng = np.random.default_rng(0)
    k = rng.random((9, 9)) * (rng.random((9, 9)) > 0.6)
    shifted = np.roll(np.pad(k, 4), (2, -3), (0, 1))
    assert best_shift(np.pad(k, 4), shifted) == (-2, 3)


def test_trimmed_midpoint_ignores_a_faint_speck_the_bounding_box_does_not():
    k = np.zeros((7, 7))
    k[1, 1], k[1, 4] = 0.7 * 0.98, 0.3 * 0.98
    k[6, 6] = 0.02  # 2% of the mass, far away
    assert trimmed_support_midpoint(k, 0.0) == (3.5, 3.5)
    assert trimmed_support_midpoint(k, 0.05) == (1.0, 2.5)  # (y, x), as core's supportMidpoint
    assert centre_of_mass(k)[1] < 2.5


def test_centring_puts_the_point_in_the_middle():
    k = np.zeros((5, 5))
    k[0, 0] = 1
    c = centred(k, (0.0, 0.0))
    assert np.unravel_index(c.argmax(), c.shape) == ((c.shape[0] - 1) // 2, (c.shape[1] - 1) // 2)
