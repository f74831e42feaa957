"""ONNX export contract: names, opset, dynamic H/W, metadata, parity with PyTorch."""
from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import export
from sgenet.configs import build_model
from sgenet.flops import param_count

REQUIRED_META = {"name", "version", "multiple", "receptive_field", "widths", "parameters",
                 "gflop_per_megapixel", "training_data"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "sgenet-tiny.onnx"
    export.main(["--random", "--variant", "sgenet-tiny", "--out", str(out), "--version", "9.9.9"])
    torch.manual_seed(0)  # export.py --random seeds 0 before building: the same weights
    model = build_model("sgenet-tiny").eval()
    return out, model


def test_graph_contract(exported):
    path, _ = exported
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    opset = {o.domain: o.version for o in proto.opset_import}
    assert opset.get("", opset.get("ai.onnx", 0)) >= 17
    assert [i.name for i in proto.graph.input] == ["blurry"]
    assert [o.name for o in proto.graph.output] == ["restored"]
    din = proto.graph.input[0].type.tensor_type.shape.dim
    dout = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in din[:2]] == [1, 3]
    # The tracer leaves the output's batch dim symbolic ('Addrestored_dim_0'); ORT returns 1.
    assert len(dout) == 4 and dout[1].dim_value == 3
    assert din[2].dim_param and din[3].dim_param  # dynamic H and W ...
    assert [d.dim_param for d in dout[2:]] == [d.dim_param for d in din[2:]]  # ... shared by the output
    assert all(not n.domain or n.domain == "ai.onnx" for n in proto.graph.node)  # standard ops only
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer)


def test_metadata(exported):
    path, model = exported
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert REQUIRED_META <= set(meta)
    assert meta["name"] == "sgenet-tiny" and meta["version"] == "9.9.9" and meta["multiple"] == "8"
    assert int(meta["parameters"]) == param_count(model)
    assert json.loads(meta["widths"]) == [8, 16, 32]
    assert int(meta["receptive_field"]) > 0 and int(meta["receptive_field"]) % 8 == 0
    assert float(meta["gflop_per_megapixel"]) > 0
    assert meta["training_data"]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert sess.get_modelmeta().custom_metadata_map["name"] == "sgenet-tiny"


def test_parity_torch_vs_onnxruntime(exported):
    path, model = exported
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(1)
    for h, w in [(64, 64), (40, 112), (136, 72), (8, 16)]:  # shapes other than the trace's 64x96
        x = torch.rand(1, 3, h, w, generator=gen)
        with torch.no_grad():
            ref = model(x).numpy()
        got = sess.run(["restored"], {"blurry": x.numpy()})[0]
        assert got.shape == (1, 3, h, w)
        assert float(np.abs(ref - got).max()) < export.PARITY_TOL, (h, w)
    assert export.check_parity(model, path) < export.PARITY_TOL


def test_sigma_variant_exports_a_sigma_input_in_parity(tmp_path):
    """SGENet-σ: a second input 'sigma' [1]; ONNX Runtime equals PyTorch at several σ, and σ reaches
    the output once its weights are not zero (a fresh σ channel starts at zero)."""
    torch.manual_seed(0)
    model = build_model("sgenet-tiny-sigma").eval()
    with torch.no_grad():
        for stage in (model.stage1, model.stage2):
            stage.head.weight[:, -1] = 0.3  # as if trained: σ matters
    out = tmp_path / "tiny-sigma.onnx"
    export.export(model, out, export.build_metadata(model, "sgenet-tiny-sigma", [], "0.0.1", receptive_field=40))
    proto = onnx.load(str(out))
    assert [i.name for i in proto.graph.input] == ["blurry", "sigma"]
    assert [d.dim_value for d in proto.graph.input[1].type.tensor_type.shape.dim] == [1]
    assert {p.key: p.value for p in proto.metadata_props}["sigma_input"] == "true"
    assert export.check_parity(model, out) < export.PARITY_TOL
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, 32, 40), dtype=np.float32)
    low, high = (sess.run(["restored"], {"blurry": x, "sigma": np.array([s], np.float32)})[0] for s in (0.0, 0.2))
    assert np.abs(low - high).max() > 1e-3


def test_guided_variant_exports_a_guide_input_in_parity(tmp_path):
    """A guided SGENet-σ: a third input 'guide' [1,3,H,W] (the blurry photo); ONNX Runtime equals
    PyTorch, and the guide reaches the output once its head weights are not zero."""
    torch.manual_seed(0)
    model = build_model("sgenet-tiny-sigma-g").eval()
    with torch.no_grad():
        for stage in (model.stage1, model.stage2):
            # As if trained: the guide matters, each channel its own way (equal weights would hide
            # a guide whose channels the export reorders wrongly).
            stage.head.weight[:, 13:] = torch.randn_like(stage.head.weight[:, 13:])
    out = tmp_path / "tiny-sigma-g.onnx"
    export.export(model, out, export.build_metadata(model, "sgenet-tiny-sigma-g", [], "0.0.1", receptive_field=40))
    proto = onnx.load(str(out))
    assert [i.name for i in proto.graph.input] == ["blurry", "sigma", "guide"]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["sigma_input"] == "true" and meta["guide_input"] == "true"
    assert export.check_parity(model, out) < export.PARITY_TOL
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    x = rng.random((1, 3, 32, 40), dtype=np.float32)
    a, b = (sess.run(["restored"], {"blurry": x, "sigma": np.array([0.05], np.float32),
                                    "guide": rng.random((1, 3, 32, 40), dtype=np.float32)})[0] for _ in range(2))
    assert np.abs(a - b).max() > 1e-3
