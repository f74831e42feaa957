"""probe_context.far_influence: the model card's receptive-field table."""
from __future__ import annotations

import sys

import torch

from conftest import TRAINING_DIR, BoxFilter

sys.path.insert(0, str(TRAINING_DIR))
from probe_context import SIZE, far_influence  # noqa: E402


def test_far_influence_is_zero_from_the_receptive_field_on():
    x = torch.rand(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    diffs = far_influence(BoxFilter(20), x, [8, 16, 24, 32])
    assert diffs[0] > 0.1 and diffs[1] > 0.1  # context shorter than the 20 px radius
    assert diffs[2] < 1e-3 and diffs[3] < 1e-3


def test_far_influence_of_the_identity_is_zero():
    x = torch.rand(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    assert far_influence(torch.nn.Identity(), x, [8, 48]) == [0.0, 0.0]
