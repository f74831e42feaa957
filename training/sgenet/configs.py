"""Named model variants (BasicSR-style registry). Every script takes ``--variant NAME``."""
from __future__ import annotations

from dataclasses import replace

from .archs.sgenet_arch import SGENet, SGENetConfig

VARIANTS: dict[str, SGENetConfig] = {
    # Shipped CPU default: fits the 150 GFLOP/MP budget with room to spare.
    # Dense dilated DRB branches: 3.5x the FLOPs of depthwise ones but faster on CPUs (measured:
    # 0.5 s vs 0.93 s per 8x128^2 training step on 2 cores) and far closer to ORT's conv peak.
    "sgenet-s": SGENetConfig(width=16, recursions=2, blocks=(1, 1, 2), body="full"),
    # SGENet-σ: sgenet-s with the noise level as an input, the learned prior of the deconvolution
    # (plug-and-play HQS, DPIR-style); initialised from sgenet-s (v0.4.0), the σ channel at zero.
    "sgenet-s-sigma": SGENetConfig(width=16, recursions=2, blocks=(1, 1, 2), body="full", sigma_input=True),
    # SGENet-σ with a deeper bottleneck (4 DRBs at the coarsest level instead of 2): 1.34 M
    # parameters against 0.85 M, 143.6 GFLOP/MP (within the 150 budget) against 112.9. Started
    # from sgenet-s-sigma's weights with the new DRBs as identities (their fuse at zero: x0 + 0),
    # so step 0 computes what sgenet-s-sigma does. The lever after sgenet-s-sigma's recipes
    # flattened (training log, session 12).
    "sgenet-m-sigma": SGENetConfig(width=16, recursions=2, blocks=(1, 1, 4), body="full", sigma_input=True),
    # SGENet-m-σ with the blurry photo as a guide input (SGENetConfig.guide_input): started from
    # sgenet-m-sigma's weights, the guide's head weights at zero. The lever after sgenet-m-sigma's
    # kernel-error line stayed flat with more data and depth (training log, session 13).
    "sgenet-m-sigma-g": SGENetConfig(width=16, recursions=2, blocks=(1, 1, 4), body="full", sigma_input=True,
                                     guide_input=True),
    # Wider variant for GPUs (not trained on this machine).
    "sgenet-l": SGENetConfig(width=32, recursions=2, blocks=(2, 2, 4), body="full"),
    # Tiny variant for tests and smoke runs.
    "sgenet-tiny": SGENetConfig(width=8, recursions=2, blocks=(1, 1, 1), body="full", context_window=5),
    "sgenet-tiny-sigma": SGENetConfig(width=8, recursions=2, blocks=(1, 1, 1), body="full", context_window=5,
                                      sigma_input=True),
    "sgenet-tiny-sigma-g": SGENetConfig(width=8, recursions=2, blocks=(1, 1, 1), body="full", context_window=5,
                                        sigma_input=True, guide_input=True),
}

# Ablation switches, applied on top of any variant: --ablate cem csam recursion dw_drb
ABLATIONS = {
    "sigma": {"sigma_input": False, "guide_input": False},  # the guide rides with σ
    "cem": {"use_cem": False},
    "csam": {"use_csam": False},
    "recursion": {"recursions": 1},
    "dw_drb": {"body": "dw"},
}


def takes_sigma(model) -> bool:
    """Whether ``model`` (an SGENet, or anything with its ``cfg``) takes the noise level σ."""
    return bool(getattr(getattr(model, "cfg", None), "sigma_input", False))


def takes_guide(model) -> bool:
    """Whether ``model`` also takes the blurry photo as ``guide``."""
    return bool(getattr(getattr(model, "cfg", None), "guide_input", False))


def get_config(variant: str, ablate: list[str] | tuple[str, ...] = ()) -> SGENetConfig:
    if variant not in VARIANTS:
        raise KeyError(f"unknown variant {variant!r}; choose one of {sorted(VARIANTS)}")
    cfg = VARIANTS[variant]
    for name in ablate:
        if name not in ABLATIONS:
            raise KeyError(f"unknown ablation {name!r}; choose from {sorted(ABLATIONS)}")
        cfg = replace(cfg, **ABLATIONS[name])
    return cfg


def build_model(variant: str, ablate: list[str] | tuple[str, ...] = ()) -> SGENet:
    return SGENet(get_config(variant, ablate))
