"""The dev-benchmark generator and evaluate.py, on a tiny synthetic stand-in (plus one real run
on ../shared/datasets when it is present)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import evaluate
import evaluate_lengths
import export
import make_benchmark_pairs
from sgenet.benchmark import NOISE_SIGMA, digest, iter_pairs, load_kernels, to_float
from sgenet.blur import convolve

from conftest import SHARED, TRAINING_DIR, shared_available


def test_pairs_cover_every_image_with_every_kernel(tiny_benchmark):
    data, kernels = tiny_benchmark
    pairs = list(iter_pairs(data, kernels))
    assert [(p.image_name, p.kernel_index) for p in pairs] == [
        ("img0.png", 0), ("img0.png", 1), ("img1.png", 0), ("img1.png", 1)]
    assert [p.index for p in pairs] == [0, 1, 2, 3]
    for p in pairs:
        assert p.blurry.dtype == np.uint8 and p.sharp.dtype == np.uint8
        assert p.blurry.shape == p.sharp.shape
        assert abs(p.kernel.sum() - 1) < 1e-9
        # blurry = quantise(clip(convolve(sharp) + noise)): the residual is noise-sized
        resid = to_float(p.blurry) - convolve(to_float(p.sharp), p.kernel)
        assert 0.5 * NOISE_SIGMA < resid.std() < 2 * NOISE_SIGMA


def test_pairs_deterministic_and_limit_is_a_prefix(tiny_benchmark):
    data, kernels = tiny_benchmark
    full = list(iter_pairs(data, kernels))
    again = list(iter_pairs(data, kernels))
    assert digest(full) == digest(again)
    head = list(iter_pairs(data, kernels, limit=3))
    assert len(head) == 3
    for a, b in zip(head, full):
        np.testing.assert_array_equal(a.blurry, b.blurry)
    assert digest(iter_pairs(data, kernels, seed=1)) != digest(full)


def test_load_kernels_validates(tmp_path):
    bad = tmp_path / "k.json"
    bad.write_text(json.dumps({"kernels": [{"size": [3, 3], "data": [0.1] * 8}]}))
    with pytest.raises(ValueError):
        load_kernels(bad)


def test_make_benchmark_pairs_refuses_repo_out(tiny_benchmark, tmp_path, capsys):
    data, kernels = tiny_benchmark
    with pytest.raises(SystemExit) as e:
        make_benchmark_pairs.main(["--data", str(data), "--kernels", str(kernels),
                                   "--out", str(TRAINING_DIR / "bench-pairs")])
    assert "inside the repository" in str(e.value)
    out = tmp_path / "pairs"
    h = make_benchmark_pairs.main(["--data", str(data), "--kernels", str(kernels), "--out", str(out)])
    assert h == digest(iter_pairs(data, kernels))
    assert len(list(out.glob("*.png"))) == 4 and (out / "manifest.json").exists()


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    torch.manual_seed(0)
    model = export.build_model("sgenet-tiny").eval()
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    export.export(model, path, {"name": "sgenet-tiny", "version": "test", "multiple": 8})
    return path


def test_evaluate_on_synthetic_set(tiny_benchmark, tiny_onnx, tmp_path):
    data, kernels = tiny_benchmark
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    argv = ["--data", str(data), "--kernels", str(kernels), "--onnx", str(tiny_onnx),
            "--extra-onnx", f"copy={tiny_onnx}", "--threads", "1",
            "--json", str(out_json), "--markdown", str(out_md)]
    res = evaluate.main(argv)
    saved = json.loads(out_json.read_text())
    assert saved["pairs"] == 4
    methods = ["blurry", "sharpen", "unsharp_strong", "wiener", "model", "copy"]
    assert list(saved["summary"]) == methods
    for m in methods:
        assert set(saved["summary"][m]) == {"psnr", "ssim"}
        assert np.isfinite(saved["summary"][m]["psnr"]) and -1 <= saved["summary"][m]["ssim"] <= 1
        assert len(saved["per_kernel"][m]) == 2 and all(k["n"] == 2 for k in saved["per_kernel"][m])
    # the same ONNX file twice gives the same numbers; the whole run is deterministic
    assert saved["summary"]["model"] == saved["summary"]["copy"]
    assert saved["settings"]["wiener_nsr"] in saved["settings"]["wiener_nsr_grid"]
    assert saved["summary"]["wiener"]["psnr"] > saved["summary"]["blurry"]["psnr"]
    again = evaluate.main(argv[:-4])
    assert again["summary"] == res["summary"] and again["per_kernel"] == res["per_kernel"]
    md = out_md.read_text()
    assert "| method | PSNR | SSIM |" in md and "non-blind upper reference" in md


def test_evaluate_missing_data_exit_codes(tmp_path):
    script = str(TRAINING_DIR / "evaluate.py")
    missing = str(tmp_path / "nope")
    r = subprocess.run([sys.executable, script, "--data", missing], capture_output=True, text=True)
    assert r.returncode != 0 and "not found" in r.stderr
    r = subprocess.run([sys.executable, script, "--data", missing, "--allow-missing"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "SKIPPED" in r.stdout


@pytest.mark.skipif(not shared_available(), reason=f"dev-benchmark data absent ({SHARED}); "
                    "this test needs ../shared/datasets beside the repository")
def test_evaluate_real_benchmark_limit_2(tiny_onnx, tmp_path):
    out_json = tmp_path / "real.json"
    r = subprocess.run([sys.executable, str(TRAINING_DIR / "evaluate.py"), "--limit", "2", "--threads", "1",
                        "--onnx", str(tiny_onnx), "--json", str(out_json)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads(out_json.read_text())
    assert res["pairs"] == 2 and res["settings"]["total_pairs"] == 192
    s = res["summary"]
    assert 15 < s["blurry"]["psnr"] < 35
    assert s["wiener"]["psnr"] > s["blurry"]["psnr"]
    assert res["per_kernel"]["blurry"][0]["n"] == 1 and res["per_kernel"]["blurry"][2]["n"] == 0


@pytest.fixture(scope="module")
def identity_onnx(tmp_path_factory):
    import onnx
    from onnx import TensorProto, helper

    dims = [1, 3, "H", "W"]
    graph = helper.make_graph([helper.make_node("Identity", ["blurry"], ["restored"])], "identity",
                              [helper.make_tensor_value_info("blurry", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("restored", TensorProto.FLOAT, dims)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"name": "identity", "multiple": "8"})
    path = tmp_path_factory.mktemp("onnx") / "identity.onnx"
    onnx.save(model, str(path))
    return path


def test_length_sweep_identity_gains_nothing_and_blur_costs_psnr(tiny_benchmark, identity_onnx, tmp_path):
    data, _ = tiny_benchmark
    out = tmp_path / "sweep.json"
    argv = ["--data", str(data), "--onnx", str(identity_onnx), "--lengths", "0", "6", "14",
            "--threads", "1", "--json", str(out)]
    res = evaluate_lengths.main(argv)
    rows = res["rows"]
    assert [r["length"] for r in rows] == [0, 6, 14] and res["images"] == 2
    for r in rows:  # the identity model returns its (8-bit) input: exactly zero gain
        assert r["gain"] == 0 and r["min_gain"] == 0 and r["model"] == r["blurry"]
    # noise sigma 0.01 alone is about 40 dB; longer camera paths cost more
    assert 38 < rows[0]["blurry"] < 42
    assert rows[0]["blurry"] > rows[1]["blurry"] > rows[2]["blurry"]
    assert json.loads(out.read_text())["rows"] == rows
    # deterministic, and a run on fewer photos is a prefix of the full one
    assert evaluate_lengths.main(argv[:-2])["rows"] == rows
    one = evaluate_lengths.main(argv[:-2] + ["--images", "1"])["rows"]
    from sgenet.data import list_images, load_rgb
    from sgenet.metrics import psnr

    sharp = load_rgb(list_images(data)[0])
    for li, length in enumerate((0, 6, 14)):  # photo 0, length li: generator seeded (seed, 0, li)
        blurry = evaluate_lengths.degrade(sharp, length, np.random.default_rng([0, 0, li]))
        assert one[li]["blurry"] == psnr(to_float(sharp), to_float(blurry))

def test_length_sweep_inertia_option_widens_the_blur(tiny_benchmark, identity_onnx):
    data, _ = tiny_benchmark
    argv = ["--data", str(data), "--onnx", str(identity_onnx), "--lengths", "24", "--threads", "1"]
    curled = evaluate_lengths.main(argv)
    assert curled["inertia"] == [0.6, 0.95]  # the default: earlier sessions' sweeps
    swept = evaluate_lengths.main(argv + ["--inertia", "0.97", "0.99"])
    assert swept["inertia"] == [0.97, 0.99]
    # Same path length, straighter path: a wider kernel, so a blurrier photo.
    assert swept["rows"][0]["blurry"] < curled["rows"][0]["blurry"] - 0.5
    with pytest.raises(SystemExit):
        evaluate_lengths.main(argv + ["--inertia", "0.99", "0.9"])


def test_length_sweep_markdown_and_missing_data(tmp_path, identity_onnx):
    with pytest.raises(SystemExit, match="not found"):
        evaluate_lengths.main(["--data", str(tmp_path / "nope"), "--onnx", str(identity_onnx)])
    md = evaluate_lengths.markdown({"images": 2, "dataset": "d", "noise_sigma": 0.01, "model": "m",
                                    "rows": [{"length": 8, "blurry": 30.0, "model": 31.5, "gain": 1.5,
                                              "min_gain": 0.25, "max_gain": 2.0}]})
    assert "| 8 | 30.00 | 31.50 | +1.50 | +0.25 |" in md
    assert "(inertia 0.6-0.95)" in md
