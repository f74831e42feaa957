"""ablate.py end to end on tiny synthetic data: two arms, two training steps each, scored on the
length sweep (no dataset needed)."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

import ablate
from conftest import synthetic_image


def _photos(folder, n, size, seed):
    folder.mkdir()
    for i in range(n):
        img = (synthetic_image(*size, seed=seed + i) * 255 + 0.5).astype(np.uint8)
        Image.fromarray(img).save(folder / f"p{i}.png")
    return folder


def test_ablation_arms_train_export_and_score_on_the_length_sweep(tmp_path):
    train = _photos(tmp_path / "train", 3, (64, 64), 20)
    val = _photos(tmp_path / "val", 2, (48, 64), 30)
    out_json = tmp_path / "ablation.json"
    report = ablate.main(["--data", str(train), "--variant", "sgenet-tiny", "--steps", "2", "--batch", "2",
                          "--crop", "32", "--arms", "full", "no_cem", "--score", "lengths",
                          "--val-data", str(val), "--lengths", "0", "6", "--images", "2",
                          "--out", str(tmp_path / "runs"), "--json", str(out_json)])
    assert json.loads(out_json.read_text())["lengths"] == report["lengths"]
    assert "results" not in report  # the dev benchmark was not asked for
    full, no_cem = report["lengths"]["full"], report["lengths"]["no_cem"]
    assert [r["length"] for r in full] == [0, 6]
    for a, b in zip(full, no_cem):
        assert a["blurry"] == b["blurry"]  # same degraded photos for every arm
        assert np.isfinite(a["model"]) and np.isfinite(b["model"])
    # the arms are different networks: their restorations differ
    assert any(a["model"] != b["model"] for a, b in zip(full, no_cem))
    import torch

    for arm, ablated in (("full", []), ("no_cem", ["cem"])):
        ck = torch.load(tmp_path / "runs" / arm / "last.pt", map_location="cpu", weights_only=False)
        assert ck["step"] == 2 and ck["ablate"] == ablated


def test_prior_ablation_arms_start_from_one_init_and_are_scored_by_the_validation(tmp_path):
    """--task prior: the full arm widens the init's head for σ, the no_sigma and no_cem arms load
    it less what they lack; every arm trains the same steps and reports its validation points."""
    import torch

    from sgenet.configs import build_model

    train = _photos(tmp_path / "train", 2, (140, 140), 20)  # crop + the 101 px kernel's margin
    val = _photos(tmp_path / "val", 1, (270, 270), 30)  # one 256² window with LENGTHS[0]'s 9 px kernel
    base = build_model("sgenet-tiny")
    init = tmp_path / "init.pt"
    torch.save({"model": base.state_dict(), "ema": base.state_dict(), "step": 5, "elapsed": 1.0,
                "variant": "sgenet-tiny", "ablate": []}, init)
    report = ablate.main(["--task", "prior", "--data", str(train), "--variant", "sgenet-tiny-sigma",
                          "--init", str(init), "--val", str(val), "--steps", "2", "--batch", "2",
                          "--crop", "32", "--arms", "full", "no_sigma", "no_cem",
                          "--out", str(tmp_path / "runs")])["prior"]
    assert set(report) == {"full", "no_sigma", "no_cem"}
    for arm, ablated in (("full", []), ("no_sigma", ["sigma"]), ("no_cem", ["cem"])):
        ck = torch.load(tmp_path / "runs" / arm / "last.pt", map_location="cpu", weights_only=False)
        # another variant's weights start a new run at step 0
        assert ck["step"] == 2 and ck["ablate"] == ablated
        start, end = report[arm]["start"], report[arm]["end"]
        assert (start["step"], end["step"]) == (0, 2)
        assert start["blurry"] == report["full"]["start"]["blurry"]  # the same validation photos
        assert end["device"] == "cpu" and all(np.isfinite(v) for k, v in end.items() if k != "device")
    # at step 0 the full arm (σ channel at zero) and the no_sigma arm are the same network: v0.4.0's
    assert report["full"]["start"]["pnp1"] == report["no_sigma"]["start"]["pnp1"]
    no_cem = torch.load(tmp_path / "runs" / "no_cem" / "last.pt", map_location="cpu", weights_only=False)
    assert not any("cem" in name for name in no_cem["model"])
