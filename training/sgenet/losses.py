"""Multi-stage, multi-scale objective: Charbonnier + 0.05 edge (Laplacian) + 0.01 FFT amplitude."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .archs.sgenet_arch import image_pyramid

_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def charbonnier(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((x - y) ** 2 + eps * eps).mean()


def laplacian(x: torch.Tensor) -> torch.Tensor:
    k = _LAPLACIAN.to(x).expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=x.shape[1])


def edge_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return charbonnier(laplacian(x), laplacian(y))


def fft_amplitude_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    fx, fy = torch.fft.rfft2(x, norm="ortho"), torch.fft.rfft2(y, norm="ortho")
    return (fx.abs() - fy.abs()).abs().mean()


def sgenet_loss(outputs: list[list[torch.Tensor]], sharp: torch.Tensor,
                edge_w: float = 0.05, fft_w: float = 0.01) -> torch.Tensor:
    """``outputs``: per stage, a list of predictions at scales full, 1/2, 1/4."""
    targets = image_pyramid(sharp, len(outputs[0]))
    total = sharp.new_zeros(())
    for stage in outputs:
        for pred, tgt in zip(stage, targets):
            total = total + charbonnier(pred, tgt) + edge_w * edge_loss(pred, tgt) \
                + fft_w * fft_amplitude_loss(pred, tgt)
    return total


def context_consistency_loss(model: torch.nn.Module, blurry: torch.Tensor, full: torch.Tensor,
                             context: int, cut: int, corner: tuple[bool, bool],
                             sigma: torch.Tensor | None = None, guide: torch.Tensor | None = None) -> torch.Tensor:
    """Penalises the use of input farther than ``context`` px away, so tiles with that much
    overlap reproduce the untiled result (the Node tiler's contract).

    ``full`` is the model's output on ``blurry``. The crop loses a strip of ``cut`` px on one
    vertical and one horizontal side (``corner``: cut the bottom, cut the right) and is run again;
    pixels at least ``context`` px inside the cut edges must come out the same as in ``full``.
    ``cut`` is a multiple of the model's grid so both runs sample at the same phase. A guided
    variant's ``guide`` is cut the same way (the tiler cuts both from the same tile). Gradients
    flow into both outputs: the full-context output is pulled towards the bounded one as well.
    """
    h, w = blurry.shape[-2:]
    bottom, right = corner
    rows = slice(0, h - cut) if bottom else slice(cut, h)
    cols = slice(0, w - cut) if right else slice(cut, w)
    if sigma is None:
        part = model(blurry[..., rows, cols])
    else:
        part = model(blurry[..., rows, cols], sigma, guide=None if guide is None else guide[..., rows, cols])
    ph, pw = part.shape[-2:]
    # Keep the rows/columns at least `context` px from the cut edge, in both coordinate frames.
    pr = slice(0, ph - context) if bottom else slice(context, ph)
    pc = slice(0, pw - context) if right else slice(context, pw)
    fr = slice(0, h - cut - context) if bottom else slice(cut + context, h)
    fc = slice(0, w - cut - context) if right else slice(cut + context, w)
    return (part[..., pr, pc] - full[..., fr, fc]).abs().mean()
