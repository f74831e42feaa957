"""Rewrites applied to a trained SGENet just before ONNX export: the same function, written so
that ONNX Runtime's CPU provider runs it faster. Training never sees them.

* Pixel-unshuffle -> SpaceToDepth. PyTorch exports ``pixel_unshuffle`` as Reshape + 6-D
  Transpose + Reshape, which ONNX Runtime runs as a slow generic transpose. ONNX's SpaceToDepth
  does the same rearrangement with another channel order (block offset major instead of colour
  major), so the convs that read the unshuffled tensor get their input channels permuted to match.
* DRB ``fuse(concat(branches))`` -> ``sum(fuse_k(branch_k))``. A 1x1 conv over a channel
  concatenation equals the sum of 1x1 convs over each part with the matching weight slice. The
  concatenated tensor is never built, and ONNX Runtime folds each Add into the conv that
  produces it.
* A 1x1 conv whose output is cut into parts (CEM's gate and shift, CSAM's branch weights) ->
  one conv per part. ONNX has no static chunk: the exporter computes each Slice's bounds from
  the runtime shape, and every Slice copies a feature map.

``export_friendly(model)`` returns a rewritten deep copy; ``export.check_parity`` then compares
the ONNX file against the *original* model, so every rewrite is checked on every export.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .archs.sgenet_arch import CEM, DRB, ChunkedConv1x1, SGENet


class _SpaceToDepthFn(torch.autograd.Function):
    """ONNX SpaceToDepth (blocksize 2): output channel (dy * 2 + dx) * C + c."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # noqa: ARG004 - autograd signature
        n, c, h, w = x.shape
        x = x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 3, 5, 1, 2, 4)
        return x.reshape(n, 4 * c, h // 2, w // 2)

    @staticmethod
    def symbolic(g, x):
        return g.op("SpaceToDepth", x, blocksize_i=2)


class SpaceToDepth(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _SpaceToDepthFn.apply(x)


def unshuffle_to_space_to_depth_order(channels: int) -> list[int]:
    """For each SpaceToDepth output channel, the pixel-unshuffle channel holding the same value:
    SpaceToDepth channel k * C + c is unshuffle channel c * 4 + k (k = dy * 2 + dx)."""
    return [(j % channels) * 4 + j // channels for j in range(4 * channels)]


@torch.no_grad()
def _permute_input_channels(conv: nn.Conv2d, order: list[int]) -> None:
    conv.weight.copy_(conv.weight[:, order])


@torch.no_grad()
def _conv1x1(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Conv2d:
    """A 1x1 conv holding a copy of ``weight`` [out, in, 1, 1] (and ``bias``, if any)."""
    conv = nn.Conv2d(weight.shape[1], weight.shape[0], 1, bias=bias is not None)
    conv.weight.copy_(weight)
    if bias is not None:
        conv.bias.copy_(bias)
    return conv


class SplitFuseDRB(nn.Module):
    """A DRB whose 1x1 fuse conv is split per dilated branch and summed (no Concat)."""

    def __init__(self, drb: DRB):
        super().__init__()
        self.recursions = drb.recursions
        self.inp, self.branches, self.act = drb.inp, drb.branches, drb.act
        weights = drb.fuse.weight.split(drb.fuse.out_channels, dim=1)  # one input slice per branch
        # The bias is added once, by the first part.
        self.fuses = nn.ModuleList(_conv1x1(w, drb.fuse.bias if k == 0 else None) for k, w in enumerate(weights))

    def body(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inp(x)
        out = None
        for branch, fuse in zip(self.branches, self.fuses):
            part = fuse(self.act(branch(y)))
            out = part if out is None else out + part
        return out

    forward = DRB.forward  # the same recursion, around the split body


class SplitConv1x1(nn.Module):
    """The parts of a :class:`ChunkedConv1x1`, each computed by its own conv."""

    def __init__(self, chunked: ChunkedConv1x1):
        super().__init__()
        each = chunked.out_channels // chunked.chunks
        self.parts = nn.ModuleList(
            _conv1x1(w, b) for w, b in zip(chunked.weight.split(each), chunked.bias.split(each))
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(part(x) for part in self.parts)


def _replace_modules(root: nn.Module, kind: type, make) -> None:
    for parent in list(root.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, kind):
                setattr(parent, name, make(child))


def export_friendly(model: SGENet) -> SGENet:
    """A deep copy of ``model`` with the rewrites above (the original is left untouched)."""
    model = copy.deepcopy(model).eval()
    model.unshuffle = SpaceToDepth()
    s2d = unshuffle_to_space_to_depth_order(3)
    sigma = [12] if model.cfg.sigma_input else []
    # A guided variant's photo is unshuffled too, after σ: its 12 channels are reordered the same way.
    guide = [12 + len(sigma) + j for j in s2d] if model.cfg.guide_input else []
    for stage in (model.stage1, model.stage2):
        # SGENet-σ's σ channel comes after the 12 unshuffled ones and stays where it is.
        _permute_input_channels(stage.head, s2d + sigma + guide)
    for cem in (m for m in model.modules() if isinstance(m, CEM)):
        cem.unshuffle = SpaceToDepth()
        guide_conv = cem.guide[0]
        _permute_input_channels(guide_conv, unshuffle_to_space_to_depth_order(guide_conv.in_channels // 4))
    _replace_modules(model, DRB, SplitFuseDRB)
    _replace_modules(model, ChunkedConv1x1, SplitConv1x1)
    return model
