"""Export-time graph rewrites: same function as the trained model, fewer slow ONNX ops."""
from __future__ import annotations

import collections

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from sgenet.archs.sgenet_arch import CEM, DRB, ChunkedConv1x1
from sgenet.configs import build_model
from sgenet.export_rewrites import SpaceToDepth, export_friendly, unshuffle_to_space_to_depth_order


def test_channel_order_hand_computed():
    assert unshuffle_to_space_to_depth_order(1) == [0, 1, 2, 3]
    # SpaceToDepth channel k*C + c holds unshuffle channel c*4 + k.
    assert unshuffle_to_space_to_depth_order(2) == [0, 4, 1, 5, 2, 6, 3, 7]


def test_space_to_depth_matches_onnxruntime(tmp_path):
    x = torch.rand(1, 3, 8, 12, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "s2d.onnx"
    torch.onnx.export(SpaceToDepth(), (x,), str(path), opset_version=17, dynamo=False,
                      input_names=["x"], output_names=["y"])
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops == ["SpaceToDepth"]
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    np.testing.assert_array_equal(SpaceToDepth()(x).numpy(), got)
    # ... and it is pixel-unshuffle with the channels reordered.
    np.testing.assert_array_equal(got, F.pixel_unshuffle(x, 2)[:, unshuffle_to_space_to_depth_order(3)].numpy())


def _perturbed(variant: str):
    torch.manual_seed(0)
    model = build_model(variant).eval()
    with torch.no_grad():  # move every weight off its init so no path is silent
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model


@pytest.mark.parametrize("variant", ["sgenet-tiny", "sgenet-s"])
def test_rewritten_model_computes_the_same_function(variant):
    model = _perturbed(variant)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fast = export_friendly(model)
    x = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert float((model(x) - fast(x)).abs().max()) < 1e-5
    assert not any(isinstance(m, (DRB, ChunkedConv1x1)) for m in fast.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # original untouched


def test_channel_permutation_is_needed():
    """Negative control: SpaceToDepth without permuting the consuming convs changes the output."""
    model = _perturbed("sgenet-tiny")
    wrong = export_friendly(model)
    with torch.no_grad():
        for stage, orig in ((wrong.stage1, model.stage1), (wrong.stage2, model.stage2)):
            stage.head.weight.copy_(orig.head.weight)
    x = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert float((model(x) - wrong(x)).abs().max()) > 1e-3


def test_exported_graph_has_no_transpose_slice_or_drb_concat(tmp_path):
    import export

    out = tmp_path / "m.onnx"
    export.main(["--random", "--variant", "sgenet-tiny", "--out", str(out), "--receptive-field", "32"])
    ops = collections.Counter(n.op_type for n in onnx.load(str(out)).graph.node)
    model = build_model("sgenet-tiny")
    cems = sum(isinstance(m, CEM) for m in model.modules())
    assert ops["Transpose"] == 0 and ops["Reshape"] == 0
    assert ops["SpaceToDepth"] == 1 + cems  # the input, and each CEM's guidance
    assert ops["Concat"] == cems  # only CEM's (G, H) pair is still concatenated
    assert ops["Slice"] == 0 and ops["Shape"] == 0  # no chunked conv outputs
