"""SGENet: Spatial Guidance Enhancement Network (dual-stage U-Net) for motion deblurring.

Our concrete reading of the paper (see docs/sgenet-model.md in the shared design notes):

    blurry ─► Stage 1 U-Net ─► Î1 (full, 1/2, 1/4; supervised)
       │            │ decoder features D1^l
       │            ▼
       └──────► CSAM^l(D1^l, E2^l) ─► Stage 2 U-Net (skips through CEM guided by Î1^l) ─► Î2

Efficiency changes (recorded in the model card):
  * a 2x pixel-unshuffle in front of both U-Nets, so feature level l runs at 1/2^l of the image;
    image scale l (full, 1/2, 1/4) maps onto feature level l by another 2x unshuffle;
  * DRB body as specified ("full": three dense dilated 3x3 convs, 1x1 fuse); a cheaper "dw" body
    (pointwise, then depthwise dilated branches) exists but trains slower on CPUs;
  * channel attention and CSAM's squeeze use a *local* average (box window, TLC-style) instead
    of a global one, so the network has a finite receptive field and a tiled result equals the
    untiled one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class SGENetConfig:
    width: int = 24                 # C; levels use C, 2C, 4C
    recursions: int = 2             # DRB recursion T (1 disables the recursive design)
    blocks: tuple[int, int, int] = (1, 1, 1)  # DRBs per encoder level (decoders mirror 1 and 2)
    body: str = "full"              # "full" (dense dilated branches) or "dw" (depthwise)
    dilations: tuple[int, ...] = (1, 2, 4)
    context_window: int = 9         # box window (in features) for the local squeeze
    use_cem: bool = True
    use_csam: bool = True
    # SGENet-σ: the noise level σ (in [0, 1] image units) is a second input, broadcast inside the
    # graph to one extra channel on the unshuffled grid of both stages' heads (FFDNet/DRUNet's
    # noise-level map, as a scalar so a tiled photo needs no σ tensor of its own).
    sigma_input: bool = False
    # The blurry photo as a third input (with sigma_input): the data step's output is the image to
    # restore and the photo it came from is the guide, unshuffled beside it into both stages'
    # heads, so the prior can tell the data step's ringing (absent from the photo) from structure
    # (present in both). Its channels come after σ's, so a checkpoint without them loads with
    # the new weights at zero (train.py's load_widening) and computes what it did.
    guide_input: bool = False
    extra: dict = field(default_factory=dict)


def _act() -> nn.Module:
    return nn.LeakyReLU(0.1, inplace=False)


class LocalContext(nn.Module):
    """Box-filter average over a k x k window (separable, edge windows shrink).

    Stands in for global average pooling: identical statistics to the training crops, a finite
    receptive field, and exportable as two standard AveragePool nodes.
    """

    def __init__(self, window: int):
        super().__init__()
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, p = self.window, self.window // 2
        x = F.avg_pool2d(x, (k, 1), 1, (p, 0), count_include_pad=False)
        return F.avg_pool2d(x, (1, k), 1, (0, p), count_include_pad=False)


class ChunkedConv1x1(nn.Conv2d):
    """A 1x1 conv whose output channels are returned as ``chunks`` equal parts (gate and shift,
    per-branch weights). A plain Conv2d's parameters, so checkpoints are unaffected; export
    computes each part with its own conv instead of slicing one output (export_rewrites.py)."""

    def __init__(self, ch_in: int, ch_out_each: int, chunks: int):
        super().__init__(ch_in, ch_out_each * chunks, 1)
        self.chunks = chunks

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return super().forward(x).chunk(self.chunks, dim=1)


class DRB(nn.Module):
    """Dilated residual block with recursive residual design: x_{t+1} = x_0 + F(x_t)."""

    def __init__(self, ch: int, cfg: SGENetConfig):
        super().__init__()
        self.recursions = cfg.recursions
        self.body_kind = cfg.body
        if cfg.body == "dw":
            self.inp = nn.Conv2d(ch, ch, 1)
            self.branches = nn.ModuleList(
                nn.Conv2d(ch, ch, 3, padding=d, dilation=d, groups=ch) for d in cfg.dilations
            )
        elif cfg.body == "full":
            self.inp = nn.Identity()
            self.branches = nn.ModuleList(
                nn.Conv2d(ch, ch, 3, padding=d, dilation=d) for d in cfg.dilations
            )
        else:
            raise ValueError(f"unknown DRB body {cfg.body!r}: use 'dw' or 'full'")
        self.act = _act()
        self.fuse = nn.Conv2d(ch * len(cfg.dilations), ch, 1)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inp(x)
        # act(concat(...)) written as concat(act(...)): the same function, but each branch becomes
        # a Conv+LeakyRelu pair that ONNX Runtime fuses into one kernel.
        y = torch.cat([self.act(b(y)) for b in self.branches], dim=1)
        return self.fuse(y)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        x = x0
        for _ in range(self.recursions):
            x = x0 + self.body(x)
        return x


class ChannelAttention(nn.Module):
    def __init__(self, ch: int, window: int, reduction: int = 4):
        super().__init__()
        self.pool = LocalContext(window)
        self.fc = nn.Sequential(
            nn.Conv2d(ch, max(ch // reduction, 4), 1), nn.ReLU(),
            nn.Conv2d(max(ch // reduction, 4), ch, 1), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(self.pool(x))


class CEM(nn.Module):
    """Contextual-aware enhancement module on a U-Net skip.

    The guidance image G (blurry pyramid in stage 1, stage-1 prediction in stage 2) is split into
    G and its high-frequency part H = G - box3(G); both are unshuffled to the feature grid and
    turned into a spatial gate and shift: out = CA(F * (1 + gamma) + beta).
    """

    def __init__(self, ch: int, window: int):
        super().__init__()
        guide_ch = 6 * 4  # (G, H) x 3 colours, unshuffled 2x
        self.unshuffle = nn.PixelUnshuffle(2)  # a module, so export can swap it (export_rewrites.py)
        self.guide = nn.Sequential(nn.Conv2d(guide_ch, ch, 3, padding=1), _act())
        self.to_gamma_beta = ChunkedConv1x1(ch, ch, 2)
        self.ca = ChannelAttention(ch, window)

    def forward(self, feat: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        high = guide - F.avg_pool2d(guide, 3, 1, 1, count_include_pad=False)
        g = self.unshuffle(torch.cat([guide, high], dim=1))
        gamma, beta = self.to_gamma_beta(self.guide(g))
        return self.ca(feat * (1 + torch.sigmoid(gamma)) + beta)


class CSAM(nn.Module):
    """Cross-stage selective aggregation: selective-kernel fusion of stage-1 decoder features
    (3x3 and dilated 3x3 branches) with stage-2 encoder features."""

    def __init__(self, ch: int, window: int, reduction: int = 4):
        super().__init__()
        self.branch3 = nn.Conv2d(ch, ch, 3, padding=1)
        self.branch5 = nn.Conv2d(ch, ch, 3, padding=2, dilation=2)
        self.pool = LocalContext(window)
        hidden = max(ch // reduction, 4)
        self.squeeze = nn.Sequential(nn.Conv2d(ch, hidden, 1), nn.ReLU())
        self.select = ChunkedConv1x1(hidden, ch, 3)  # one weight vector per branch

    def forward(self, dec1: torch.Tensor, enc2: torch.Tensor) -> torch.Tensor:
        b3, b5 = self.branch3(dec1), self.branch5(dec1)
        z = self.squeeze(self.pool(b3 + b5 + enc2))
        a3, a5, ae = self.select(z)
        # Softmax over the three branches written out elementwise on 4-D maps: the same function
        # as softmax over a stacked 5-D tensor, but ONNX Runtime runs it ~10x faster (no
        # transposes around a Softmax on axis 1).
        m = torch.maximum(torch.maximum(a3, a5), ae)
        e3, e5, ee = torch.exp(a3 - m), torch.exp(a5 - m), torch.exp(ae - m)
        return (b3 * e3 + b5 * e5 + enc2 * ee) / (e3 + e5 + ee)


class Down(nn.Sequential):
    def __init__(self, ch_in: int, ch_out: int):
        super().__init__(nn.Conv2d(ch_in, ch_out, 2, stride=2))


class Up(nn.Sequential):
    def __init__(self, ch_in: int, ch_out: int):
        super().__init__(nn.Conv2d(ch_in, ch_out * 4, 1), nn.PixelShuffle(2))


class ToImage(nn.Module):
    """Features at level l -> image residual at scale l (3 channels, 2x finer grid)."""

    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, 12, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.conv(x), 2)


def _stack(ch: int, n: int, cfg: SGENetConfig) -> nn.Sequential:
    return nn.Sequential(*[DRB(ch, cfg) for _ in range(n)])


class UNetStage(nn.Module):
    """One 3-level encoder-decoder. Stage 2 additionally fuses stage-1 decoder features (CSAM)."""

    def __init__(self, cfg: SGENetConfig, cross_stage: bool):
        super().__init__()
        c = cfg.width
        chs = (c, 2 * c, 4 * c)
        self.cross_stage = cross_stage
        self.use_csam = cross_stage and cfg.use_csam
        self.head = nn.Conv2d(12 + int(cfg.sigma_input) + 12 * int(cfg.guide_input), c, 3, padding=1)
        self.enc = nn.ModuleList(_stack(chs[i], cfg.blocks[i], cfg) for i in range(3))
        self.down = nn.ModuleList([Down(chs[0], chs[1]), Down(chs[1], chs[2])])
        self.up = nn.ModuleList([Up(chs[1], chs[0]), Up(chs[2], chs[1])])
        self.dec = nn.ModuleList(_stack(chs[i], cfg.blocks[i], cfg) for i in range(2))
        self.use_cem = cfg.use_cem
        if cfg.use_cem:
            self.cem = nn.ModuleList(CEM(chs[i], cfg.context_window) for i in range(2))
        else:
            self.cem = nn.ModuleList()
        if self.use_csam:
            self.csam = nn.ModuleList(CSAM(ch, cfg.context_window) for ch in chs)
        self.to_img = nn.ModuleList(ToImage(ch) for ch in chs)

    def forward(self, x_unshuffled, pyramid, guides, stage1_feats=None):
        e = self.head(x_unshuffled)
        skips = []
        for lvl in range(3):
            if lvl > 0:
                e = self.down[lvl - 1](e)
            if self.use_csam:
                e = self.csam[lvl](stage1_feats[lvl], e)
            elif self.cross_stage:  # ablation: plain stacking, stage-1 features added wholesale
                e = e + stage1_feats[lvl]
            e = self.enc[lvl](e)
            skips.append(e)
        feats = [None, None, skips[2]]
        d = skips[2]
        for lvl in (1, 0):
            skip = skips[lvl]
            if self.use_cem:
                skip = self.cem[lvl](skip, guides[lvl])
            d = self.dec[lvl](self.up[lvl](d) + skip)
            feats[lvl] = d
        images = [pyramid[lvl] + self.to_img[lvl](feats[lvl]) for lvl in range(3)]
        return images, feats


def image_pyramid(x: torch.Tensor, levels: int = 3) -> list[torch.Tensor]:
    out = [x]
    for _ in range(levels - 1):
        out.append(F.avg_pool2d(out[-1], 2))
    return out


class SGENet(nn.Module):
    """Input [N,3,H,W] in [0,1], H and W multiples of 8, and with ``cfg.sigma_input`` the noise
    level ``sigma`` [N] (or [N,1,1,1]) in the same units; with ``cfg.guide_input`` also ``guide``,
    the blurry photo [N,3,H,W] the input was deconvolved from (the noisy photo itself when there
    is no kernel). Returns the final restoration, or with ``return_all=True`` the list of stage
    outputs, each a list of 3 scales (full, 1/2, 1/4)."""

    multiple = 8

    def __init__(self, cfg: SGENetConfig | None = None):
        super().__init__()
        self.cfg = cfg or SGENetConfig()
        if self.cfg.guide_input and not self.cfg.sigma_input:
            raise ValueError("guide_input needs sigma_input: a guided model is a noise-conditioned prior")
        self.unshuffle = nn.PixelUnshuffle(2)  # feeds both stages' heads; swapped at export
        self.stage1 = UNetStage(self.cfg, cross_stage=False)
        self.stage2 = UNetStage(self.cfg, cross_stage=True)

    def forward(self, blurry: torch.Tensor, sigma: torch.Tensor | None = None, return_all: bool = False,
                guide: torch.Tensor | None = None):
        pyramid = image_pyramid(blurry)
        x = self.unshuffle(blurry)
        if self.cfg.sigma_input:
            if sigma is None:
                raise ValueError("this variant takes the noise level: call model(image, sigma)")
            # The σ map: one channel, constant per image (x[:, :1] * 0 keeps the graph's shapes
            # dynamic in the ONNX export).
            x = torch.cat([x, x[:, :1] * 0 + sigma.reshape(-1, 1, 1, 1).to(x)], dim=1)
        if self.cfg.guide_input:
            if guide is None or guide.shape != blurry.shape:
                raise ValueError("this variant takes the blurry photo as well: call model(image, sigma, guide=photo) "
                                 "with the photo the same shape as the image")
            x = torch.cat([x, self.unshuffle(guide)], dim=1)
        out1, feats1 = self.stage1(x, pyramid, guides=pyramid)
        # Stage 2 is guided by stage 1's supervised prediction: the spatial guidance mechanism.
        out2, _ = self.stage2(x, pyramid, guides=out1, stage1_feats=feats1)
        if return_all:
            return [out1, out2]
        return out2[0]
