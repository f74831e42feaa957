"""The learning curve of SGENet-σ: a small, fixed validation set and the plug-and-play loop.

Eight photos of a held-out folder (Kodak24), a 256² centre window each, blurred with a fixed,
seeded project kernel (9 to 101 px), 1% noise. For each point of the curve: PSNR of the blurry
window, of the HQS loop with N = 1 and N = 4 iterations given the true kernel, of N = 1 given a
seeded perturbed kernel (perturb.py), and of pure denoising at σ = 25/255; all at DPIR's λ 0.23,
as the curve began. ``pnp1_core`` and ``pnp1_core_wrong_kernel`` are N = 1 at λ 0.12, the one
pass that ``deblur()`` runs (core's ``PNP_ONE_PASS_WEIGHT``), logged from session 17 on.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .blur import convolve, trajectory_kernel
from .configs import takes_guide
from .data import list_images, load_rgb
from .data_step import ONE_PASS_WEIGHT, dpir_sigmas, hqs_alpha, hqs_data_step
from .perturb import perturb

LENGTHS = (9, 15, 25, 41, 61, 81, 25, 101)
SIDE = 256
NOISE = 0.01
BORDER = 16  # px left out of every PSNR


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a[BORDER:-BORDER, BORDER:-BORDER], b[BORDER:-BORDER, BORDER:-BORDER]
    mse = float(np.mean((np.clip(a, 0, 1) - b) ** 2))
    return 10 * np.log10(1 / max(mse, 1e-12))


@torch.no_grad()
def run_network(model: torch.nn.Module, x: np.ndarray, sigma: float, guide: np.ndarray) -> np.ndarray:
    """The network on one image at σ; ``guide`` (the photo x came from) goes to a guided variant."""
    device = next(model.parameters()).device  # the model's own: the CPU, or the GPU it trains on
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None].to(device)
    out = model(to_t(x), torch.tensor([sigma], dtype=torch.float32, device=device),
                guide=to_t(guide) if takes_guide(model) else None)
    return out[0].cpu().numpy().transpose(1, 2, 0)


def pnp_restore(model: torch.nn.Module, y: np.ndarray, kernel: np.ndarray, sigma_noise: float,
                iterations: int, weight: float = 0.23) -> np.ndarray:
    """Plug-and-play HQS (DPIR, Algorithm 1): for σ_k from 49/255 down to the noise level,
    1. x_k = data step (y, kernel, α_k, z_{k-1});  2. z_k = SGENet-σ(x_k, σ_k).  z_0 = y."""
    z = y
    for sigma_k in dpir_sigmas(sigma_noise, iterations):
        x = hqs_data_step(y, kernel, hqs_alpha(sigma_noise, float(sigma_k), weight), z)
        z = run_network(model, np.clip(x, -0.5, 1.5), float(sigma_k), y)
    return np.clip(z, 0, 1)


class PriorValidation:
    def __init__(self, folder: str | Path, seed: int = 2026):
        rng = np.random.default_rng(seed)
        self.items = []
        for path, length in zip(list_images(folder), LENGTHS):
            im = load_rgb(path).astype(np.float32) / 255
            k = trajectory_kernel(rng, float(length), inertia_range=(0.6, 0.995))
            ks = k.shape[0]
            side = SIDE + ks - 1
            y0, x0 = (im.shape[0] - side) // 2, (im.shape[1] - side) // 2
            if y0 < 0 or x0 < 0:
                continue
            region = im[y0:y0 + side, x0:x0 + side]
            r = ks // 2
            sharp = region[r:r + SIDE, r:r + SIDE]
            blurry = convolve(region, k)[r:r + SIDE, r:r + SIDE]
            blurry = np.clip(blurry + rng.normal(0, NOISE, blurry.shape), 0, 1).astype(np.float32)
            wrong, kind = perturb(k, rng)
            noisy = (sharp + rng.normal(0, 25 / 255, sharp.shape)).astype(np.float32)
            self.items.append({"sharp": sharp, "blurry": blurry, "kernel": k, "wrong": wrong,
                               "perturbation": kind, "noisy": noisy})
        if not self.items:
            raise ValueError(f"no photo in {folder} holds a {SIDE}px window with its kernel")

    def run(self, model: torch.nn.Module) -> dict:
        was_training = model.training
        model.eval()
        rows = {"blurry": [], "pnp1": [], "pnp4": [], "pnp1_wrong_kernel": [], "denoise25": [],
                "pnp1_core": [], "pnp1_core_wrong_kernel": []}
        for it in self.items:
            s = it["sharp"]
            rows["blurry"].append(psnr(it["blurry"], s))
            rows["pnp1"].append(psnr(pnp_restore(model, it["blurry"], it["kernel"], NOISE, 1), s))
            rows["pnp4"].append(psnr(pnp_restore(model, it["blurry"], it["kernel"], NOISE, 4), s))
            rows["pnp1_wrong_kernel"].append(psnr(pnp_restore(model, it["blurry"], it["wrong"], NOISE, 1), s))
            rows["denoise25"].append(psnr(run_network(model, it["noisy"], 25 / 255, it["noisy"]), s))
            one_pass = lambda k: pnp_restore(model, it["blurry"], k, NOISE, 1, ONE_PASS_WEIGHT)
            rows["pnp1_core"].append(psnr(one_pass(it["kernel"]), s))
            rows["pnp1_core_wrong_kernel"].append(psnr(one_pass(it["wrong"]), s))
        model.train(was_training)
        return {k: round(float(np.mean(v)), 3) for k, v in rows.items()}
