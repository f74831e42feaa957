"""Analytic cost of a model: multiply-accumulates of every Conv2d, counted by forward hooks."""
from __future__ import annotations

import torch
from torch import nn

from .configs import takes_guide, takes_sigma


def count_macs(model: nn.Module, height: int = 256, width: int = 256) -> int:
    total = 0

    def hook(mod: nn.Conv2d, _inp, out):
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        parts = out if isinstance(out, tuple) else (out,)  # ChunkedConv1x1 returns its parts
        total += sum(part.numel() for part in parts) * k

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            device = next(model.parameters()).device
            x = torch.zeros(1, 3, height, width, device=device)
            if takes_sigma(model):
                model(x, torch.zeros(1, device=device), guide=x if takes_guide(model) else None)
            else:
                model(x)
    finally:
        for h in handles:
            h.remove()
    return total


def gflop_per_megapixel(model: nn.Module, size: int = 256) -> float:
    """2 FLOPs per MAC, scaled to 1e6 output pixels. Convs dominate; pooling/elementwise excluded."""
    return 2 * count_macs(model, size, size) / (size * size) * 1e6 / 1e9


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
