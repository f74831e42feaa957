"""The training loop: schedule, checkpoints, --resume and --init, on tiny synthetic photos."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import TRAINING_DIR, BoxFilter, synthetic_image

sys.path.insert(0, str(TRAINING_DIR))
import save_weights  # noqa: E402
from sgenet.losses import context_consistency_loss  # noqa: E402
from train import lr_at, parse_args, train  # noqa: E402


def _args(extra: list[str]):
    return parse_args(["--data", "x", "--out", "y", *extra])


def test_lr_warms_up_then_follows_cosine_to_min():
    a = _args(["--minutes", "10", "--lr", "1e-3", "--min-lr", "1e-5", "--warmup-steps", "100"])
    assert lr_at(a, 0.0, 0) == pytest.approx(1e-3 / 100, rel=1e-3)
    assert lr_at(a, 0.0, 99) == pytest.approx(1e-3)
    mid = 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi * 0.5))
    assert lr_at(a, 300.0, 5000) == pytest.approx(mid)
    assert lr_at(a, 600.0, 9000) == pytest.approx(1e-5)
    assert lr_at(a, 900.0, 9000) == pytest.approx(1e-5)  # past the budget: stays at the floor


def test_lr_schedule_restarts_from_an_init_point():
    a = _args(["--minutes", "20", "--lr", "1e-3", "--min-lr", "1e-5", "--warmup-steps", "10"])
    origin = (600.0, 8000)  # continued after 10 of 20 minutes, at step 8000
    assert lr_at(a, 600.0, 8000, *origin) == pytest.approx(1e-4)  # warm-up restarts
    assert lr_at(a, 600.0, 8009, *origin) == pytest.approx(1e-3)  # then the full peak
    assert lr_at(a, 900.0, 9000, *origin) == pytest.approx(1e-5 + 0.5 * (1e-3 - 1e-5))
    assert lr_at(a, 1200.0, 9999, *origin) == pytest.approx(1e-5)


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        img = (synthetic_image(72, 80, seed=10 + i) * 255 + 0.5).astype(np.uint8)
        Image.fromarray(img).save(folder / f"p{i}.png")
    return folder


def _run(photos: Path, out: Path, *extra: str) -> dict:
    return train(parse_args(["--data", str(photos), "--out", str(out), "--variant", "sgenet-tiny",
                             "--crop", "32", "--batch", "2", "--threads", "1", "--log-every", "1",
                             "--warmup-steps", "2", "--minutes", "30", *extra]))


def test_sample_workers_train_and_bring_back_a_weights_copy(photos, tmp_path):
    # --workers: the GPU path's data stream, run here on the CPU with one worker process.
    copy = tmp_path / "copy.pt"
    done = _run(photos, tmp_path / "run", "--max-steps", "2", "--workers", "1", "--device", "cpu",
                "--weights-copy", str(copy))
    assert done["step"] == 2
    kept = torch.load(copy, map_location="cpu", weights_only=False)
    assert "opt" not in kept and kept["step"] == 2 and kept["variant"] == "sgenet-tiny"
    for name, value in kept["ema"].items():
        assert torch.equal(value, done["ema"].state_dict()[name])


def test_workers_draw_distinct_streams_seeded_by_step():
    from train import SampleStream

    class Recorder:
        rng = None

        def batch(self, n):
            return torch.from_numpy(self.rng.random(n)), torch.zeros(n)

    def first(step):
        stream = SampleStream(Recorder(), "blur", 3, seed=0, step=step)
        blurry, sigma, _, guide = next(iter(stream))
        assert sigma is None and guide is None
        return blurry

    assert torch.equal(first(10), first(10))  # reproducible
    assert not torch.equal(first(10), first(11))  # a continued run does not replay the first


def test_train_checkpoints_resumes_and_initialises(photos, tmp_path, capsys):
    out = tmp_path / "run"
    first = _run(photos, out, "--max-steps", "3")
    assert first["step"] == 3
    ck = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    assert ck["step"] == 3 and ck["origin"] == (0.0, 0) and ck["elapsed"] > 0
    assert (out / "train.log").read_text().count("step") == 3

    resumed = _run(photos, out, "--max-steps", "5", "--resume")
    assert resumed["step"] == 5  # continued, not restarted
    assert "resumed from" in capsys.readouterr().out

    weights = tmp_path / "w.pt"
    save_weights.main(str(out / "last.pt"), str(weights))
    kept = torch.load(weights, map_location="cpu", weights_only=False)
    assert "opt" not in kept and kept["step"] == 5

    cont = _run(photos, tmp_path / "run2", "--max-steps", "6", "--init", str(weights))
    assert cont["step"] == 6
    ck2 = torch.load(tmp_path / "run2" / "last.pt", map_location="cpu", weights_only=False)
    assert ck2["origin"] == (kept["elapsed"], 5)  # the schedule restarted at the init point
    # The EMA weights were carried over, then updated once: close to, not equal to, the saved ones.
    a, b = kept["ema"]["stage2.head.weight"], ck2["ema"]["stage2.head.weight"]
    assert not torch.equal(a, b) and torch.allclose(a, b, atol=1e-2)


def _draws(rng_state: dict, n: int = 4) -> np.ndarray:
    rng = np.random.default_rng()
    rng.bit_generator.state = rng_state
    return rng.random(n)


def test_a_continued_run_draws_new_data_not_the_stream_it_continues(photos, tmp_path):
    fresh = _run(photos, tmp_path / "fresh", "--max-steps", "1")
    weights = tmp_path / "w.pt"
    save_weights.main(str(tmp_path / "fresh" / "last.pt"), str(weights))
    _run(photos, tmp_path / "cont", "--max-steps", "2", "--init", str(weights))
    _run(photos, tmp_path / "cont-seed", "--max-steps", "2", "--init", str(weights), "--seed", "1")
    state = lambda run: torch.load(tmp_path / run / "last.pt", map_location="cpu", weights_only=False)["rng"]
    # After one step each, the continuation and the fresh run would sit at the same point of one
    # stream if --init kept the start seed; they must not, and --seed still selects the stream.
    assert fresh["step"] == 1
    streams = [_draws(state(r)) for r in ("fresh", "cont", "cont-seed")]
    assert not np.allclose(streams[0], streams[1]) and not np.allclose(streams[1], streams[2])
    again = tmp_path / "cont-again"
    _run(photos, again, "--max-steps", "2", "--init", str(weights))
    np.testing.assert_array_equal(_draws(state("cont-again")), streams[1])  # still reproducible


# --- receptive-field bound (--context) -----------------------------------------------------------

CORNERS = [(False, False), (False, True), (True, False), (True, True)]


@pytest.mark.parametrize("corner", CORNERS)
def test_context_loss_is_zero_for_the_identity_whatever_the_cut(corner):
    # Misaligned crops of the two runs would compare different pixels and give a non-zero loss.
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    identity = torch.nn.Identity()
    assert context_consistency_loss(identity, x, x, context=16, cut=8, corner=corner).item() == 0.0


@pytest.mark.parametrize("corner", CORNERS)
def test_context_loss_vanishes_exactly_when_the_receptive_field_fits(corner):
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    box = BoxFilter(r=12)
    full = box(x)
    assert context_consistency_loss(box, x, full, context=16, cut=8, corner=corner).item() < 1e-7
    assert context_consistency_loss(box, x, full, context=8, cut=8, corner=corner).item() > 1e-4


def test_context_loss_measures_the_far_influence_by_hand():
    # out = x + mean(x): the cut run differs by the change of the mean, at every kept pixel.
    x = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(2))

    class GlobalMean(torch.nn.Module):
        def forward(self, t):
            return t + t.mean()

    expected = abs(x[..., 8:, 8:].mean() - x.mean()).item()
    got = context_consistency_loss(GlobalMean(), x, GlobalMean()(x), context=8, cut=8,
                                   corner=(False, False)).item()
    assert got == pytest.approx(expected, rel=1e-5)


def test_context_option_is_validated():
    with pytest.raises(SystemExit):
        _args(["--context", "20"])  # not a multiple of 8
    with pytest.raises(SystemExit):
        _args(["--context", "104", "--crop", "128"])  # leaves no pixels to compare
    assert _args(["--context", "48"]).context == 48


@pytest.mark.parametrize("bounds", [["0.9", "0.8"], ["0.5", "1"], ["-0.1", "0.9"]])
def test_inertia_option_is_validated(bounds):
    with pytest.raises(SystemExit):
        _args(["--inertia", *bounds])
    assert _args(["--inertia", "0.7", "0.99"]).inertia == [0.7, 0.99]
    assert tuple(_args([]).inertia) == (0.6, 0.95)  # earlier runs' distribution by default


def test_train_with_context_bound_logs_the_term(photos, tmp_path, capsys):
    _run(photos, tmp_path / "ctx", "--max-steps", "2", "--crop", "48", "--context", "8",
         "--context-samples", "1")
    out = capsys.readouterr().out
    assert "context bound 8" in out and "/255" in out


def test_guided_prior_trains_from_an_unguided_init_and_its_guide_weights_learn(tmp_path):
    # --task prior on the guided variant, initialised from the unguided one: the guide's head
    # channels start at zero (the init's function) and the first steps move them, so the photo
    # reaches the gradient through both the loss and the context term.
    from save_weights import save, weights_only
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        Image.fromarray((synthetic_image(160, 170, seed=20 + i) * 255 + 0.5).astype(np.uint8)).save(folder / f"p{i}.png")
    init = tmp_path / "init.pt"
    unguided = _run(folder, tmp_path / "a", "--task", "prior", "--variant", "sgenet-tiny-sigma", "--max-steps", "1")
    save(init, weights_only(torch.load(tmp_path / "a" / "last.pt", map_location="cpu", weights_only=False)))
    assert unguided["step"] == 1
    done = train(parse_args(["--task", "prior", "--data", str(folder), "--out", str(tmp_path / "b"),
                             "--variant", "sgenet-tiny-sigma-g", "--init", str(init), "--crop", "48",
                             "--batch", "2", "--threads", "1", "--log-every", "1", "--warmup-steps", "1",
                             "--minutes", "30", "--max-steps", "3", "--context", "8", "--context-samples", "1"]))
    assert done["step"] == 3
    head = done["model"].state_dict()["stage1.head.weight"]
    assert head.shape[1] == 25 and torch.count_nonzero(head[:, 13:]) > 0


def test_a_guided_variant_is_refused_for_the_blur_task(photos, tmp_path):
    with pytest.raises(SystemExit):
        parse_args(["--data", str(photos), "--out", str(tmp_path), "--variant", "sgenet-tiny-sigma-g"])


def test_last_curve_step_reads_the_curves_last_point(tmp_path):
    from train import last_curve_step
    assert last_curve_step(tmp_path) is None
    (tmp_path / "curve.jsonl").write_text('{"step": 0, "pnp1": 29.3}\n{"step": 303, "pnp1": 29.4}\n')
    assert last_curve_step(tmp_path) == 303
