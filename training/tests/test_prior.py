"""SGENet-σ and its training data: the HQS data step against an independent solve, the periodic
bridge against its definition, the σ input starting from v0.4.0's function, the sampler's ranges."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from sgenet.blur import trajectory_kernel
from sgenet.archs.sgenet_arch import SGENet, SGENetConfig
from sgenet.configs import build_model
from sgenet.data_step import (dpir_sigmas, field_size, hqs_alpha, hqs_data_step, kernel_otf,
                              next_fft_size, next_real_fft_width, periodic_extend)
from sgenet.perturb import perturb
from sgenet.prior_data import SIGMA_MAX, PriorSampler

from conftest import synthetic_image

import train as train_script


def circular_blur_matrix(kernel: np.ndarray, fw: int, fh: int) -> np.ndarray:
    """The (fw·fh)² matrix of periodic convolution with the kernel centred at (k-1)>>1, built tap by tap."""
    n = fw * fh
    A = np.zeros((n, n))
    kh, kw = kernel.shape
    cy, cx = (kh - 1) >> 1, (kw - 1) >> 1
    for y in range(fh):
        for x in range(fw):
            for j in range(kh):
                for i in range(kw):
                    A[y * fw + x, ((y - (j - cy)) % fh) * fw + (x - (i - cx)) % fw] += kernel[j, i]
    return A


def test_fft_sizes_match_core():
    assert [next_fft_size(n) for n in (1, 7, 11, 13, 17, 31, 97)] == [1, 8, 12, 15, 18, 32, 100]
    # Even, with half of it 2^a·3^b·5^c (core's real FFT).
    assert [next_real_fft_width(n) for n in (1, 13, 23, 29)] == [2, 16, 24, 30]


def test_periodic_extend_is_continuous_and_keeps_the_image():
    img = synthetic_image(20, 26, seed=3)
    f = periodic_extend(img, 40, 33)
    np.testing.assert_array_equal(f[:20, :26], img)
    # The bridge blends mirrors, so no sample jumps by more than the image's own largest step.
    step = max(np.abs(np.diff(img, axis=0)).max(), np.abs(np.diff(img, axis=1)).max())
    wrapped = np.concatenate([f, f[:1]], axis=0)
    assert np.abs(np.diff(wrapped, axis=0)).max() <= step + 1e-9
    wrapped = np.concatenate([f, f[:, :1]], axis=1)
    assert np.abs(np.diff(wrapped, axis=1)).max() <= step + 1e-9


def test_kernel_otf_is_the_dft_of_the_centred_kernel():
    k = np.arange(15, dtype=np.float64).reshape(3, 5)
    otf = kernel_otf(k, 8, 6)
    # Direct DFT of the kernel placed with its centre tap (1, 2) at the origin.
    direct = np.zeros((6, 5), complex)
    for v in range(6):
        for u in range(5):
            for j in range(3):
                for i in range(5):
                    direct[v, u] += k[j, i] * np.exp(-2j * np.pi * (u * (i - 2) / 8 + v * (j - 1) / 6))
    np.testing.assert_allclose(otf, direct, atol=1e-9)


def test_data_step_solves_the_normal_equations():
    """x = argmin ||A x − y||² + α||x − z||² on the periodic field: (AᵀA + αI) x = Aᵀy + αz,
    solved here with a dense matrix built tap by tap, independent of the FFT."""
    rng = np.random.default_rng(0)
    k = trajectory_kernel(rng, 6.0)
    h, w = 9, 11
    y = rng.uniform(0, 1, (h, w))
    z = rng.uniform(0, 1, (h, w))
    alpha = 0.03
    fw, fh = field_size(w, h, k)
    Y, Z = periodic_extend(y, fw, fh).ravel(), periodic_extend(z, fw, fh).ravel()
    A = circular_blur_matrix(k.astype(np.float64), fw, fh)
    x = np.linalg.solve(A.T @ A + alpha * np.eye(fw * fh), A.T @ Y + alpha * Z).reshape(fh, fw)[:h, :w]
    np.testing.assert_allclose(hqs_data_step(y, k, alpha, z), x, atol=2e-5)
    # Colour planes are solved alike.
    rgb = hqs_data_step(np.stack([y, z, y], -1), k, alpha, np.stack([z, y, z], -1))
    np.testing.assert_allclose(rgb[..., 0], x, atol=2e-5)


def test_data_step_with_identity_kernel_and_sigma_schedule():
    y = synthetic_image(16, 16)
    np.testing.assert_allclose(hqs_data_step(y, np.ones((1, 1), np.float32), 0.5), y, atol=1e-5)
    s = dpir_sigmas(0.01, 4)
    assert s[0] == pytest.approx(49 / 255) and s[-1] == pytest.approx(0.01) and np.all(np.diff(s) < 0)
    assert dpir_sigmas(0.01, 1)[0] == pytest.approx(np.sqrt(49 / 255 * 0.01))
    assert hqs_alpha(0.01, 0.1) == pytest.approx(0.23 * 0.01)
    with pytest.raises(ValueError):
        hqs_data_step(y, np.ones((1, 1)), 0.0)


def test_sigma_channel_starts_at_v040s_function():
    torch.manual_seed(0)
    old = build_model("sgenet-tiny").eval()
    new = build_model("sgenet-tiny-sigma").eval()
    widened = train_script.load_widening(new, old.state_dict())
    assert sorted(widened) == ["stage1.head.weight", "stage2.head.weight"]
    x = torch.rand(2, 3, 32, 40)
    with torch.no_grad():
        torch.testing.assert_close(new(x, torch.tensor([0.0, 0.2])), old(x))
        # Once the σ weights move, σ changes the output.
        new.stage1.head.weight[:, -1] = 0.5
        assert not torch.allclose(new(x, torch.tensor([0.0, 0.0])), new(x, torch.tensor([0.2, 0.2])))
    with pytest.raises(ValueError, match="noise level"):
        new(x)


def test_deeper_variant_starts_at_the_shallower_ones_function():
    torch.manual_seed(0)
    old = build_model("sgenet-s-sigma").eval()
    new = build_model("sgenet-m-sigma").eval()
    assert train_script.load_widening(new, old.state_dict()) == []
    # The two new bottleneck DRBs of each stage hold a zero fuse: the identity.
    for stage in (new.stage1, new.stage2):
        for block in list(stage.enc[2])[2:]:
            assert torch.count_nonzero(block.fuse.weight) == 0 and torch.count_nonzero(block.fuse.bias) == 0
    x = torch.rand(2, 3, 64, 48)
    sigma = torch.tensor([0.01, 0.1])
    with torch.no_grad():
        torch.testing.assert_close(new(x, sigma), old(x, sigma))
    # A tensor missing from a block that the state does hold is still refused.
    broken = {k: v for k, v in old.state_dict().items() if k != "stage1.enc.2.0.fuse.weight"}
    with pytest.raises(RuntimeError, match="fuse"):
        train_script.load_widening(build_model("sgenet-m-sigma"), broken)


def test_guided_variant_starts_at_the_unguided_ones_function():
    """sgenet-m-sigma-g from sgenet-m-sigma: the guide's 12 head channels come after σ's and start
    at zero, so the guided model computes what the unguided one did, whatever the guide."""
    torch.manual_seed(0)
    old = build_model("sgenet-tiny-sigma").eval()
    new = build_model("sgenet-tiny-sigma-g").eval()
    assert sorted(train_script.load_widening(new, old.state_dict())) == ["stage1.head.weight", "stage2.head.weight"]
    x, sigma = torch.rand(2, 3, 32, 40), torch.tensor([0.01, 0.1])
    with torch.no_grad():
        torch.testing.assert_close(new(x, sigma, guide=torch.rand(2, 3, 32, 40)), old(x, sigma))
        new.stage1.head.weight[:, 13:] = 0.3
        assert not torch.allclose(new(x, sigma, guide=x), new(x, sigma, guide=1 - x))
    with pytest.raises(ValueError, match="blurry photo"):
        new(x, sigma)
    with pytest.raises(ValueError, match="blurry photo"):
        new(x, sigma, guide=x[..., :16, :])
    # Ablating σ takes the guide with it; a guide without σ is refused outright.
    assert not build_model("sgenet-tiny-sigma-g", ["sigma"]).cfg.guide_input
    with pytest.raises(ValueError, match="sigma_input"):
        SGENet(SGENetConfig(width=8, guide_input=True))


def test_rotation_perturbation_is_a_psf():
    k = trajectory_kernel(np.random.default_rng(1), 20.0)
    r, kind = perturb(k, np.random.default_rng(2), "rotate")
    assert kind == "rotate" and r.min() >= 0 and r.sum() == pytest.approx(1, abs=1e-5)
    assert r.shape[0] >= k.shape[0]


def test_prior_sampler_ranges(tmp_path):
    from PIL import Image
    for i in range(2):
        Image.fromarray((synthetic_image(160, 170, seed=i) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    s = PriorSampler(tmp_path, 24, seed=0, lengths=(5, 21))
    x, sigma, sharp, guide = s.batch(12)
    assert x.shape == sharp.shape == guide.shape == (12, 3, 24, 24) and sigma.shape == (12,)
    assert torch.isfinite(guide).all()
    assert torch.isfinite(x).all() and (sigma >= 0).all() and (sigma <= SIGMA_MAX + 1e-6).all()
    assert sharp.min() >= 0 and sharp.max() <= 1
    # Denoising samples: the input is the truth plus noise of the stated level.
    s.p_denoise = 1.0
    noisy, sg, clean, guide = s.denoising_sample()
    assert abs(float(np.std(noisy - clean)) - sg) < 0.01 + 0.1 * sg
    np.testing.assert_array_equal(guide, np.clip(noisy, 0, 1))  # no kernel: the photo, as captured, is its own guide
    with pytest.raises(ValueError, match="short side"):
        PriorSampler(tmp_path, 150, lengths=(5, 101))
    # Denoising levels are log-uniform over [0.5/255, 50/255]: half of them below 5/255 (a
    # uniform draw would give a tenth), where photos without blur are.
    levels = np.array([s.denoising_sample()[1] for _ in range(300)])
    assert levels.min() >= 0.5 / 255 - 1e-9 and levels.max() <= SIGMA_MAX + 1e-9
    assert 0.38 < float(np.mean(levels < 5 / 255)) < 0.62


CORE_DIST = Path(__file__).resolve().parents[2] / "packages" / "core" / "dist" / "index.js"

NODE_DATA_STEP = """
import { readFileSync } from 'node:fs';
import { hqsDataStep } from %s;
const job = JSON.parse(readFileSync(0, 'utf8'));
const kernel = { width: job.kw, height: job.kh, data: Float32Array.from(job.kernel) };
const out = [];
for (let c = 0; c < 3; c++) {
  const plane = (a) => a.filter((_, i) => i %% 3 === c);
  out.push(Array.from(hqsDataStep(plane(job.y), job.w, job.h, kernel, job.alpha, plane(job.z))));
}
process.stdout.write(JSON.stringify(out));
"""


def test_data_step_matches_core_typescript(tmp_path):
    """The PyTorch-side twin and core's hqsDataStep agree within 1/255 on a project-made image
    (the network is trained on the one and fed by the other)."""
    if not CORE_DIST.exists():
        pytest.fail(f"{CORE_DIST} missing: `npm run build` (npm test) builds it before the Python tests")
    rng = np.random.default_rng(7)
    img = synthetic_image(40, 52, seed=5)
    k = trajectory_kernel(rng, 13.0)
    z = np.clip(img + rng.normal(0, 0.05, img.shape), 0, 1).astype(np.float32)
    alpha = 0.02
    job = {"w": 52, "h": 40, "kw": k.shape[1], "kh": k.shape[0], "kernel": k.ravel().tolist(),
           "y": img.ravel().tolist(), "z": z.ravel().tolist(), "alpha": alpha}
    script = tmp_path / "step.mjs"
    script.write_text(NODE_DATA_STEP % json.dumps(CORE_DIST.as_uri()))
    run = subprocess.run(["node", str(script)], input=json.dumps(job), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    ts = np.stack([np.asarray(p).reshape(40, 52) for p in json.loads(run.stdout)], -1)
    py = hqs_data_step(img, k, alpha, z)
    assert np.abs(ts - py).max() <= 1 / 255
    assert np.abs(ts - py).max() < 1e-5  # in fact the same solve, up to float32 rounding


def test_learning_curve_plot(tmp_path):
    import plot_curve
    curve = tmp_path / "curve.jsonl"
    curve.write_text("\n".join(json.dumps({"step": s, "train_minutes": m, "blurry": 23.7, "pnp1": 28 + m / 60,
                                            "pnp4": 24 + m / 30, "pnp1_wrong_kernel": 27.0, "denoise25": 23.6})
                               for s, m in ((0, 0.0), (500, 20.0), (1000, 40.0))))
    out = tmp_path / "curve.png"
    plot_curve.plot(plot_curve.read_curve(curve), out, "test")
    from PIL import Image
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (plot_curve.H, plot_curve.W, 3)
    # Each series drew in its own colour.
    for _, colour in plot_curve.SERIES.values():
        assert (img == np.array(colour)).all(-1).sum() > 20
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match="no curve point"):
        plot_curve.read_curve(tmp_path / "empty.jsonl")


def test_prior_sample_input_is_aligned_with_its_target(tmp_path):
    """Noise, JPEG, kernel errors and variation off: one HQS data step with the true kernel from the
    blurry crop gives back its sharp target, at zero shift (a crop offset would show as a shift)."""
    from PIL import Image
    for i in range(2):
        Image.fromarray((synthetic_image(200, 210, seed=i) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    s = PriorSampler(tmp_path, 64, seed=3, p_denoise=0, lengths=(5, 15), max_noise=0, p_signal_noise=0, p_jpeg=0,
                     p_linear=0, p_nonuniform=0, p_clip=0, p_perturb=0, p_first_iteration=1)
    for _ in range(3):
        x, sigma, sharp, guide = s.deconvolution_sample()
        # The guide is the blurry photo the data step deconvolved: farther from the truth than x,
        # and with less high frequency than the truth.
        detail = lambda a: float(np.mean(np.diff(a, axis=1) ** 2))
        assert detail(guide) < 0.8 * detail(sharp)
        assert guide.min() >= 0 and guide.max() <= 1  # the photo as captured: clipped to the sensor's range
        assert np.mean((guide - sharp) ** 2) > np.mean((x - sharp) ** 2)
        inner = lambda a, dy=0, dx=0: a[12 + dy:-12 + dy, 12 + dx:-12 + dx]
        errors = {(dy, dx): float(np.mean((inner(x, dy, dx) - inner(sharp)) ** 2))
                  for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
        assert min(errors, key=errors.get) == (0, 0)
        assert errors[(0, 0)] < 0.005  # near the truth (what remains is the regularisation's smoothing)


def test_one_pass_share_draws_the_defaults_operating_point(tmp_path):
    """With ``p_one_pass`` 1 every blurred sample is core's one pass: σ_k is the geometric mean of
    49/255 and a noise level (read back from σ_k) of at least core's noise floor (1.5/255), and the
    input is the data step at that level's α with λ 0.12 and z = the blurry photo (recomputed here
    from the sample's own guide and kernel)."""
    from PIL import Image
    for i in range(2):
        Image.fromarray((synthetic_image(200, 210, seed=i) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    s = PriorSampler(tmp_path, 48, seed=5, p_denoise=0, lengths=(5, 15), max_noise=0.04, p_signal_noise=0,
                     p_jpeg=0, p_linear=0, p_nonuniform=0, p_clip=0, p_perturb=0, p_one_pass=1.0)
    for _ in range(6):
        state = s.rng.bit_generator.state
        x, sigma_k, sharp, guide = s.deconvolution_sample()
        measured = sigma_k ** 2 / (49 / 255)  # σ_k = sqrt(49/255 · σ_measured)
        assert 1.5 / 255 - 1e-9 <= measured <= 49 / 255
        # Replay the draw to read the kernel and the true noise level, then redo the data step.
        s.rng.bit_generator.state = state
        k = s._kernel()
        np.testing.assert_allclose(
            x, np.clip(hqs_data_step(guide, k, hqs_alpha(measured, sigma_k, 0.12), guide), -0.5, 1.5), atol=2e-5)


def test_one_pass_floors_a_clean_samples_noise_level_as_core_does(tmp_path):
    """Below core's noise floor (1.5/255) a one-pass sample is drawn at the floor, as ``deblur()``'s
    data step regularises a near-noiseless photo (core's ``DEFAULT_NOISE_FLOOR``)."""
    from PIL import Image
    Image.fromarray((synthetic_image(200, 210, seed=3) * 255).astype(np.uint8)).save(tmp_path / "0.png")
    s = PriorSampler(tmp_path, 48, seed=7, p_denoise=0, lengths=(5, 15), max_noise=0.002, p_signal_noise=0,
                     p_jpeg=0, p_linear=0, p_nonuniform=0, p_clip=0, p_perturb=0, p_one_pass=1.0)
    for _ in range(4):
        _, sigma_k, _, _ = s.deconvolution_sample()
        assert sigma_k == pytest.approx(np.sqrt(49 / 255 * 1.5 / 255), rel=1e-9)
