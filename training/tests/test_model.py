"""SGENet forward shapes, multi-stage outputs, ablation switches and a tiny overfitting run."""
from __future__ import annotations

import io
from collections import Counter

import numpy as np
import onnx
import pytest
import torch

from sgenet.blur import convolve, trajectory_kernel
from sgenet.configs import ABLATIONS, build_model
from sgenet.flops import count_macs, param_count
from sgenet.losses import sgenet_loss

from conftest import synthetic_image

SIZES = [(8, 8), (16, 24), (64, 64), (48, 80), (120, 72)]


@pytest.mark.parametrize("variant", ["sgenet-tiny", "sgenet-s"])
def test_output_shapes(variant):
    torch.manual_seed(0)
    model = build_model(variant).eval()
    for h, w in SIZES:
        x = torch.rand(1, 3, h, w)
        with torch.no_grad():
            y = model(x)
        assert y.shape == x.shape, (variant, h, w)
        assert torch.isfinite(y).all()
    with torch.no_grad():
        y = model(torch.rand(2, 3, 32, 48))
    assert y.shape == (2, 3, 32, 48)


@pytest.mark.parametrize("variant", ["sgenet-tiny", "sgenet-s"])
def test_return_all_two_stages_three_scales(variant):
    torch.manual_seed(0)
    model = build_model(variant).eval()
    h, w = 48, 80
    with torch.no_grad():
        outs = model(torch.rand(1, 3, h, w), return_all=True)
        final = model(torch.rand(1, 3, h, w))
    assert len(outs) == 2
    for stage in outs:
        assert len(stage) == 3
        for lvl, img in enumerate(stage):
            assert img.shape == (1, 3, h >> lvl, w >> lvl)
    assert final.shape == outs[1][0].shape  # the final output is stage 2, full resolution


def _onnx_op_counts(model: torch.nn.Module) -> Counter:
    buf = io.BytesIO()
    torch.onnx.export(model, (torch.rand(1, 3, 32, 32),), buf, opset_version=17, dynamo=False,
                      input_names=["blurry"], output_names=["restored"])
    return Counter(node.op_type for node in onnx.load_from_string(buf.getvalue()).graph.node)


@pytest.fixture(scope="module")
def base_tiny():
    torch.manual_seed(0)
    model = build_model("sgenet-tiny").eval()
    return model, param_count(model), _onnx_op_counts(model), count_macs(model, 32, 32)


def test_sigma_ablation_removes_the_sigma_input():
    with_sigma, without = build_model("sgenet-tiny-sigma"), build_model("sgenet-tiny-sigma", ["sigma"])
    assert not without.cfg.sigma_input and param_count(with_sigma) > param_count(without)
    with torch.no_grad():
        assert without(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)


@pytest.mark.parametrize("switch", sorted(set(ABLATIONS) - {"sigma"}))
def test_ablation_changes_graph(switch, base_tiny):
    base, base_params, base_ops, base_macs = base_tiny
    torch.manual_seed(0)
    model = build_model("sgenet-tiny", [switch]).eval()
    params, ops, macs = param_count(model), _onnx_op_counts(model), count_macs(model, 32, 32)
    assert params != base_params or ops != base_ops, f"--ablate {switch} left the graph unchanged"
    assert macs != base_macs, f"--ablate {switch} left the compute unchanged"
    if switch == "recursion":  # shared weights: same parameters, fewer conv applications
        assert params == base_params and ops["Conv"] < base_ops["Conv"]
    if switch in ("cem", "csam"):  # the module is gone
        assert params < base_params and ops["Conv"] < base_ops["Conv"]
    if switch == "dw_drb":
        assert params < base_params
    x = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        y = model(x)
        outs = model(x, return_all=True)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert [len(s) for s in outs] == [3, 3]


def test_unknown_ablation_and_variant_rejected():
    with pytest.raises(KeyError):
        build_model("sgenet-tiny", ["nope"])
    with pytest.raises(KeyError):
        build_model("sgenet-xxl")


def _fixed_batch(n=2, size=32):
    rng = np.random.default_rng(0)
    sharp = np.stack([synthetic_image(size, size, seed=i) for i in range(n)])
    blurry = np.stack([np.clip(convolve(s, trajectory_kernel(rng, length=9.0)) + rng.normal(0, 0.01, s.shape), 0, 1)
                       for s in sharp]).astype(np.float32)
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
    return to_t(blurry), to_t(sharp)


def test_loss_decreases_on_fixed_batch():
    torch.manual_seed(0)
    model = build_model("sgenet-tiny").train()
    blurry, sharp = _fixed_batch()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(20):
        loss = sgenet_loss(model(blurry, return_all=True), sharp)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses


def test_loss_is_zero_floor_for_perfect_prediction():
    sharp = torch.rand(1, 3, 32, 32)
    from sgenet.archs.sgenet_arch import image_pyramid

    perfect = [image_pyramid(sharp), image_pyramid(sharp)]
    noisy = [[p + 0.1 * torch.randn_like(p) for p in image_pyramid(sharp)] for _ in range(2)]
    # Charbonnier's eps gives a tiny floor; anything wrong makes it much larger.
    assert sgenet_loss(perfect, sharp).item() < 0.01
    assert sgenet_loss(noisy, sharp).item() > 0.1


def test_macs_count_every_part_of_a_chunked_conv():
    from sgenet.archs.sgenet_arch import ChunkedConv1x1

    class Head(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = ChunkedConv1x1(3, 4, 2)

        def forward(self, x):
            return torch.cat(self.conv(x), dim=1)

    # 8 output channels x 3 input channels x 16 x 16 positions, 1x1 kernel.
    assert count_macs(Head(), 16, 16) == 8 * 3 * 16 * 16
