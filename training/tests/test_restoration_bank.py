"""The restoration bank: perturbed kernels are valid PSFs, and the bank is built with the product's
own estimator and deconvolution (the Node half), resumably, never inside the repository."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import make_restoration_bank as bank
from sgenet.blur import trajectory_kernel
from sgenet.perturb import PERTURBATIONS, perturb

from conftest import REPO_ROOT, synthetic_image


@pytest.mark.parametrize("kind", PERTURBATIONS)
def test_every_perturbation_is_a_valid_psf_that_differs_from_the_truth(kind):
    true = trajectory_kernel(np.random.default_rng(3), length=15.0)
    k, name = perturb(true, np.random.default_rng(7), kind)
    assert name == kind
    assert (k >= 0).all() and abs(k.sum() - 1) < 1e-5
    # Compared on a common canvas (some perturbations change the size).
    side = max(k.shape[0], true.shape[0]) + 4
    def place(a):
        out = np.zeros((side, side))
        oy, ox = (side - a.shape[0]) // 2, (side - a.shape[1]) // 2
        out[oy:oy + a.shape[0], ox:ox + a.shape[1]] = a
        return out
    assert np.abs(place(k) - place(true)).sum() > 0.02
    # Seeded: the same draw gives the same kernel.
    again, _ = perturb(true, np.random.default_rng(7), kind)
    assert np.array_equal(k, again)


def test_lost_tail_drops_the_faint_taps_only():
    k = np.array([[0.5, 0.3, 0.15, 0.05]])
    out, _ = perturb(k, np.random.default_rng(0), "lost_tail")
    assert out[0, 0] > 0 and out[0, -1] == 0


@pytest.fixture
def photos(tmp_path) -> Path:
    data = tmp_path / "photos"
    data.mkdir()
    for i in range(2):
        Image.fromarray((synthetic_image(72, 96, seed=10 + i) * 255 + 0.5).astype(np.uint8)).save(data / f"p{i}.png")
    return data


def test_builds_with_the_node_half_and_resumes(photos, tmp_path, capsys):
    if not bank.NODE_HALF.exists():
        pytest.fail(f"{bank.NODE_HALF} missing: `npm run build` (npm test) builds it before the Python tests")
    out = tmp_path / "bank"
    args = ["--data", str(photos), "--out", str(out), "--variants", "2", "--max-size", "15", "--p-perturbed", "0.5", "--p-sharp", "0.25"]
    summary = bank.main(args)
    assert summary["items"] == 4 and summary["done"] == 4
    items = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    for it in items:
        record = json.loads((out / "deconvolved" / f"{it['id']}.done.json").read_text())
        est = record["estimated"]
        assert abs(sum(est["data"]) - 1) < 1e-4 and len(est["data"]) == est["width"] * est["height"]
        deconvolved = Image.open(out / "deconvolved" / f"{it['id']}.deconvolved.png")
        assert deconvolved.size == (96, 72)
        if it.get("sharp"):
            assert it["kernel"] == {"width": 1, "height": 1, "data": [1.0]}
        if isinstance(it["deconvolve"], dict):
            assert record["used"] in ("given", "identity") and it["perturbation"] in PERTURBATIONS
        else:
            # The estimated kernel, or no deconvolution at all when the estimator fell back.
            assert record["used"] == ("identity" if record["identity"] else "estimated")
            if record["used"] == "identity":
                assert np.array_equal(np.asarray(deconvolved), np.asarray(Image.open(it["blurred"]).convert("RGB")))
    # A rerun makes the same items and has nothing left to do.
    capsys.readouterr()
    bank.main(args)
    assert "0 new items (4 already there)" in capsys.readouterr().out
    assert [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()] == items


def test_refuses_an_output_folder_inside_the_repository(photos):
    with pytest.raises(SystemExit, match="inside the repository"):
        bank.main(["--data", str(photos), "--out", str(REPO_ROOT / "training" / "bank-here")])


def test_bank_sampler_gives_aligned_deconvolved_and_sharp_crops_and_train_runs_on_it(photos, tmp_path):
    if not bank.NODE_HALF.exists():
        pytest.fail(f"{bank.NODE_HALF} missing: `npm run build` (npm test) builds it before the Python tests")
    out = tmp_path / "bank"
    bank.main(["--data", str(photos), "--out", str(out), "--variants", "1", "--max-size", "15", "--p-sharp", "0"])
    from sgenet.data import BankPairSampler
    from train import parse_args, train
    sampler = BankPairSampler(out, crop=32, seed=1)
    assert len(sampler.pairs) == 2
    restored, sharp = sampler.pair()
    assert restored.shape == sharp.shape == (32, 32, 3)
    assert restored.dtype == sharp.dtype == np.float32
    # Aligned: the same window (and flip/rotation) of the deconvolved photo and of the sharp one,
    # so they are far closer to each other than to another window of the sharp photo.
    other = np.ascontiguousarray(np.roll(sharp, 16, axis=1))
    assert np.abs(restored - sharp).mean() < 0.5 * np.abs(restored - other).mean()
    xb, yb = sampler.batch(3)
    assert tuple(xb.shape) == tuple(yb.shape) == (3, 3, 32, 32)
    result = train(parse_args(["--bank", str(out), "--out", str(tmp_path / "run"), "--variant", "sgenet-tiny",
                               "--crop", "32", "--batch", "2", "--threads", "1", "--max-steps", "2",
                               "--warmup-steps", "1", "--minutes", "5"]))
    assert result["step"] == 2


def test_train_takes_exactly_one_of_data_and_bank(tmp_path):
    from train import parse_args
    with pytest.raises(SystemExit):
        parse_args(["--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        parse_args(["--data", "x", "--bank", "y", "--out", str(tmp_path)])
