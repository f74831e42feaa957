"""Training samples for SGENet-σ, the learned prior of the deconvolution, made on the fly.

Each sample is (input, σ, sharp, guide): what one plug-and-play HQS iteration hands the network,
the noise level it is told, the truth, and the photo the input came from (the blurry photo; the
noisy one for pure denoising), which a guided variant (``guide_input``) takes as well. No bank: a
sample costs milliseconds of CPU.

1. Pure denoising (``p_denoise``): sharp + N(0, σ²), σ log-uniform in [0.5/255, 50/255]
   (DRUNet's range, drawn log-uniform since step ~3,600: uniform draws left photos of 1-3/255
   noise, those without blur, rare, and the network denoised them worse than v0.4.0). This is the
   prior of the later HQS iterations and of photos without blur.
2. Otherwise a blurred photo run through the HQS data step (data_step.py, core's twin):
   a. blur: a project trajectory kernel of 5-101 px (path length log-uniform), in linear light for
      part of the data then gamma-encoded, mildly spatially varying for part (two slightly
      different kernels blended), clipped highlights for part (exposure pushed before the blur);
   b. noise: 0-5%, part of it signal-dependent (Poisson-Gaussian); JPEG 70-95 for part;
   c. the kernel handed to the data step: the true one or one with a blind estimate's errors
      (perturb.py);
   d. σ_k log-uniform between the noise level and 49/255, α_k = λ·σ_n²/σ_k² with λ log-uniform
      in [0.08, 0.3] around DPIR's 0.23 (one-pass inference uses 0.12: core's deconvolve/pnp.ts), and
      z = the blurry photo (the first iteration) or a smoothed, noisy truth (a later one).
      A share ``p_one_pass`` of the blurred samples is instead drawn at the operating point of
      what ``deblur()`` runs by default, one-pass PnP: z = the blurry photo, σ_k the geometric mean
      of 49/255 and the noise level the pipeline measures (the true level with a log-normal error
      of 20%, as core's estimate has, and at least core's noise floor, 1.5/255), λ = 0.12 (core's
      ``PNP_ONE_PASS_WEIGHT``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .blur import convolve, jpeg_roundtrip, linear_to_srgb, smooth_mask, srgb_to_linear, trajectory_kernel
from .data import augment, list_images, load_rgb
from .data_step import NOISE_FLOOR, ONE_PASS_WEIGHT, dpir_sigmas, hqs_alpha, hqs_data_step
from .perturb import perturb

SIGMA_MAX = 50 / 255
SIGMA_MIN_DENOISE = 0.5 / 255
ALPHA_WEIGHTS = (0.08, 0.3)  # range of λ in α_k = λ·σ_n²/σ_k², drawn log-uniform
SIGMA_START = 49 / 255
NOISE_ESTIMATE_ERROR = 0.2  # log-normal spread of the noise level the pipeline measures


def _gaussian_blur(img: np.ndarray, s: float) -> np.ndarray:
    r = max(1, int(np.ceil(3 * s)))
    g = np.exp(-0.5 * (np.arange(-r, r + 1) / s) ** 2)
    g /= g.sum()
    return convolve(img, np.outer(g, g).astype(np.float32))


class PriorSampler:
    """Keeps the sharp photos in memory (uint8) and yields (input, sigma, sharp, guide) batches."""

    def __init__(self, folders: str | Path | list, crop: int, seed: int = 0, *,
                 p_denoise: float = 0.15, lengths: tuple[float, float] = (5, 101),
                 inertia_range: tuple[float, float] = (0.6, 0.995), max_noise: float = 0.05,
                 p_signal_noise: float = 0.3, p_jpeg: float = 0.3, p_linear: float = 0.3,
                 p_nonuniform: float = 0.2, p_clip: float = 0.1, p_perturb: float = 0.5,
                 p_first_iteration: float = 0.6, p_one_pass: float = 0.0):
        folders = [folders] if isinstance(folders, (str, Path)) else list(folders)
        self.images = [load_rgb(p) for f in folders for p in list_images(f)]
        self.max_kernel = 2 * int(np.ceil(lengths[1] / 2)) + 3
        self.images = [im for im in self.images if min(im.shape[:2]) >= crop + self.max_kernel]
        if not self.images:
            raise ValueError(f"no photo in {folders} is {crop + self.max_kernel}px on its short side")
        self.crop = crop
        self.rng = np.random.default_rng(seed)
        self.p_denoise, self.lengths, self.inertia_range = p_denoise, lengths, inertia_range
        self.max_noise, self.p_signal_noise, self.p_jpeg = max_noise, p_signal_noise, p_jpeg
        self.p_linear, self.p_nonuniform, self.p_clip = p_linear, p_nonuniform, p_clip
        self.p_perturb, self.p_first_iteration = p_perturb, p_first_iteration
        self.p_one_pass = p_one_pass

    def _region(self, side: int) -> np.ndarray:
        im = self.images[int(self.rng.integers(len(self.images)))]
        y = int(self.rng.integers(im.shape[0] - side + 1))
        x = int(self.rng.integers(im.shape[1] - side + 1))
        return augment(im[y:y + side, x:x + side], self.rng).astype(np.float32) / 255

    def _kernel(self) -> np.ndarray:
        lo, hi = self.lengths
        length = float(np.exp(self.rng.uniform(np.log(lo), np.log(hi))))
        k = trajectory_kernel(self.rng, length, inertia_range=self.inertia_range)
        if k.shape[0] > self.max_kernel:  # a path that never turned: trim to the largest side trained
            c, r = k.shape[0] // 2, self.max_kernel // 2
            k = k[c - r:c + r + 1, c - r:c + r + 1]
            k = k / k.sum()
        return k

    def denoising_sample(self) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        sharp = self._region(self.crop)
        sigma = float(np.exp(self.rng.uniform(np.log(SIGMA_MIN_DENOISE), np.log(SIGMA_MAX))))
        noisy = (sharp + self.rng.normal(0, sigma, sharp.shape).astype(np.float32)).astype(np.float32)
        # No kernel: the photo is its own guide, clipped as a captured photo is (core feeds the
        # 8/16-bit photo); the input stays unclipped, as the denoising prior was trained.
        return noisy, sigma, sharp, np.clip(noisy, 0, 1)

    def deconvolution_sample(self) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        rng, c = self.rng, self.crop
        k = self._kernel()
        # Mild spatial variation: the same shake, slightly rescaled, on part of the crop. Drawn first,
        # so the crop's margin covers the wider of the two kernels (no reflected border in the input).
        k2 = perturb(k, rng, "scale")[0] if rng.random() < self.p_nonuniform else None
        ks = max(k.shape[0], 0 if k2 is None else k2.shape[0])
        region = self._region(c + ks - 1)
        # a. blur in linear light for part of the data; clipped highlights (exposure pushed, then
        # clipped by the sensor) always in linear light.
        clip = rng.random() < self.p_clip
        linear = clip or rng.random() < self.p_linear
        scene = srgb_to_linear(region) if linear else region
        if clip:
            scene = scene * float(rng.uniform(1.3, 3.0))
        encode = (lambda v: linear_to_srgb(v)) if linear else (lambda v: np.clip(v, 0, 1))
        r = ks // 2
        sharp = encode(scene[r:r + c, r:r + c]).astype(np.float32)
        blurred = convolve(scene, k)[r:r + c, r:r + c]
        if k2 is not None:
            other = convolve(scene, k2)[r:r + c, r:r + c]
            m = smooth_mask(rng, c, c)
            blurred = m * blurred + (1 - m) * other
        blurry = encode(blurred)
        # b. noise (part signal-dependent), then JPEG for part.
        sigma_n = float(rng.uniform(0, self.max_noise))
        var = np.full(blurry.shape, sigma_n ** 2, np.float32)
        if rng.random() < self.p_signal_noise:
            var = var * 0.5 + float(rng.uniform(0, 0.004)) * np.clip(blurry, 0, 1)
        blurry = np.clip(blurry + rng.normal(0, 1, blurry.shape) * np.sqrt(var), 0, 1)
        if rng.random() < self.p_jpeg:
            blurry = jpeg_roundtrip(blurry, int(rng.integers(70, 96)))
        sigma_eff = float(np.sqrt(var.mean()))
        # c. the kernel the data step is given.
        given = perturb(k, rng)[0] if rng.random() < self.p_perturb else k
        # d. one HQS iteration at σ_k: the default's one pass, or any iteration of the loop.
        if self.p_one_pass and rng.random() < self.p_one_pass:  # no draw at 0: the old stream
            # As core measures it, and floored as core's data step floors it (`noiseFloor`).
            sigma_n = max(sigma_eff * float(np.exp(rng.normal(0, NOISE_ESTIMATE_ERROR))), NOISE_FLOOR)
            sigma_k, weight, z = float(dpir_sigmas(sigma_n, 1)[0]), ONE_PASS_WEIGHT, blurry
        else:
            sigma_n = sigma_eff
            lo = max(sigma_eff, 1 / 255)
            sigma_k = float(np.exp(rng.uniform(np.log(lo), np.log(max(SIGMA_START, lo)))))
            if rng.random() < self.p_first_iteration:
                z = blurry
            else:
                z = _gaussian_blur(sharp, float(rng.uniform(0.5, 1.5)))
                z = z + rng.normal(0, 0.5 * sigma_k, z.shape).astype(np.float32)
            weight = float(np.exp(rng.uniform(np.log(ALPHA_WEIGHTS[0]), np.log(ALPHA_WEIGHTS[1]))))
        x = hqs_data_step(blurry.astype(np.float32), given, hqs_alpha(sigma_n, sigma_k, weight), z)
        return np.clip(x, -0.5, 1.5).astype(np.float32), sigma_k, sharp, blurry.astype(np.float32)

    def sample(self) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        if self.rng.random() < self.p_denoise:
            return self.denoising_sample()
        return self.deconvolution_sample()

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        items = [self.sample() for _ in range(n)]
        to_t = lambda i: torch.from_numpy(np.stack([item[i] for item in items]).transpose(0, 3, 1, 2).copy())
        sigma = torch.tensor([item[1] for item in items], dtype=torch.float32)
        return to_t(0), sigma, to_t(2), to_t(3)
