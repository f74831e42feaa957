"""Export a trained SGENet checkpoint to ONNX (the artifact every Node backend consumes).

    python training/export.py --ckpt training/runs/sgenet-s/last.pt \
        --out packages/core/models/sgenet-s.onnx [--dev-benchmark bench.json]

Contract: input ``blurry`` float32 [1,3,H,W] RGB in [0,1] (H, W dynamic multiples of 8), output
``restored`` of the same shape (not clamped), opset 17, weights inside the file, metadata_props
filled in, and ONNX Runtime output equal to PyTorch's (max abs diff < 1e-4) on random inputs.

SGENet-σ variants (``sigma_input``) take a second input ``sigma``: float32 [1], the noise level in
the same [0,1] units, one value for the whole photo (so a tiled photo passes the same σ to every
tile); metadata ``sigma_input`` is "true" for them. Guided variants (``guide_input``) take a third,
``guide``: float32 [1,3,H,W], the blurry photo the input was deconvolved from (the photo itself when
there is no kernel), cut by the tiler from the same tile as the input; metadata ``guide_input`` is
"true" for them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sgenet.configs import build_model, get_config, takes_guide, takes_sigma  # noqa: E402
from sgenet.export_rewrites import export_friendly  # noqa: E402
from sgenet.flops import gflop_per_megapixel, param_count  # noqa: E402

OPSET = 17
PARITY_TOL = 1e-4
TRAINING_DATA = ("CBSD432 (432 Berkeley photos) with synthetic camera-shake blur from the project's "
                 "trajectory generator (paths 1-40 px, curled to nearly straight, 8% left unblurred; "
                 "see the model card), non-uniform blending, noise sigma<=0.02, JPEG")
PRIOR_TRAINING_DATA = ("CBSD432 and CUrban100 crops, degraded on the fly (sgenet/prior_data.py): 15% pure "
                       "denoising at sigma 0-50/255; otherwise project trajectory kernels of 5-101 px (linear "
                       "light, clipped highlights, non-uniform shake in part), noise 0-5% partly signal-"
                       "dependent, JPEG 70-95, half the kernels perturbed, then core's HQS data step")


class _Exportable(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, blurry):
        return self.model(blurry)


class _ExportableSigma(_Exportable):
    def forward(self, blurry, sigma):
        return self.model(blurry, sigma)


class _ExportableGuided(_Exportable):
    def forward(self, blurry, sigma, guide):
        return self.model(blurry, sigma, guide=guide)


class AtSigma(torch.nn.Module):
    """An SGENet-σ seen as an image-to-image model at a fixed σ (for the receptive-field probe); a
    guided one gets the probed image as its guide too (the tiler cuts both from one tile)."""

    def __init__(self, model, sigma: float = 0.05):
        super().__init__()
        self.model, self.sigma = model, sigma

    def forward(self, x):
        return self.model(x, torch.full((x.shape[0],), self.sigma), guide=x if takes_guide(self.model) else None)


@torch.no_grad()
def context_changes(model: torch.nn.Module, x: torch.Tensor, contexts, block: int = 16):
    """For each r in ``contexts`` (lazily, so callers can stop early): max |difference| of the
    centre ``block`` x ``block`` (on the 8-px grid) between the model's output on the square input
    ``x`` and on a crop of ``x`` that keeps only r px of context around that block."""
    c0 = (x.shape[-1] // 2 // 8) * 8
    full = model(x)[..., c0:c0 + block, c0:c0 + block]
    for r in contexts:
        out = model(x[..., c0 - r:c0 + block + r, c0 - r:c0 + block + r])[..., r:r + block, r:r + block]
        yield float((out - full).abs().max())


def effective_receptive_field(model: torch.nn.Module, tolerance: float = 0.5 / 255,
                              size: int = 384, block: int = 16, seeds: int = 2) -> int:
    """Context (px, a multiple of 8) a grid-aligned crop needs so that its centre block equals the
    full-image output within ``tolerance``: the overlap the Node tiler needs.

    Measured on uniform noise, the input with the most high-frequency energy (a worst case for
    natural photos). The theoretical receptive field of the network is far larger, but the
    influence of distant pixels decays quickly; this is what a tiled run actually needs."""
    worst_needed = 8
    c0 = (size // 2 // 8) * 8
    contexts = range(8, c0 + 1, 8)
    for seed in range(seeds):
        x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))
        changes = context_changes(model, x, contexts, block)
        needed = next((r for r, change in zip(contexts, changes) if change <= tolerance), c0)
        worst_needed = max(worst_needed, needed)
    return worst_needed


def load_checkpoint(path: str | Path, use_ema: bool = True):
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = build_model(ck["variant"], ck.get("ablate", []))
    model.load_state_dict(ck["ema" if use_ema and "ema" in ck else "model"])
    model.eval()
    return model, ck


def export(model: torch.nn.Module, out: Path, meta: dict[str, str]) -> None:
    """Write ``model`` as ONNX, through the graph rewrites of sgenet/export_rewrites.py."""
    dummy = torch.rand(1, 3, 64, 96)
    sigma, guide = takes_sigma(model), takes_guide(model)
    wrapper, args, names = (_Exportable, (dummy,), ["blurry"])
    axes = {"blurry": {2: "height", 3: "width"}, "restored": {2: "height", 3: "width"}}
    if sigma:
        wrapper, args, names = (_ExportableSigma, (dummy, torch.full((1,), 0.05)), ["blurry", "sigma"])
    if guide:
        wrapper, args, names = (_ExportableGuided, (*args, torch.rand(1, 3, 64, 96)), [*names, "guide"])
        axes["guide"] = {2: "height", 3: "width"}
    torch.onnx.export(
        wrapper(export_friendly(model)), args, str(out), opset_version=OPSET, dynamo=False,
        input_names=names, output_names=["restored"], dynamic_axes=axes,
        do_constant_folding=True,
    )
    proto = onnx.load(str(out))
    # The tracer leaves the output batch symbolic; the contract fixes it to 1 like the input.
    proto.graph.output[0].type.tensor_type.shape.dim[0].dim_value = 1
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, str(v)
    proto.doc_string = ("SGENet motion deblurring; input 'blurry' [1,3,H,W] RGB 0..1, H,W multiples of 8"
                        + ("; input 'sigma' [1], the noise level in the same units" if sigma else "")
                        + ("; input 'guide' [1,3,H,W], the blurry photo" if guide else ""))
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))


def check_parity(model: torch.nn.Module, path: Path, sizes=((64, 64), (96, 160), (136, 72))) -> float:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    gen = torch.Generator().manual_seed(0)
    for i, (h, w) in enumerate(sizes):
        x = torch.rand(1, 3, h, w, generator=gen)
        feeds = {"blurry": x.numpy()}
        with torch.no_grad():
            if takes_sigma(model):
                sigma = torch.full((1,), 0.02 + 0.08 * i)
                guide = torch.rand(1, 3, h, w, generator=gen) if takes_guide(model) else None
                feeds["sigma"] = sigma.numpy()
                if guide is not None:
                    feeds["guide"] = guide.numpy()
                ref = model(x, sigma, guide=guide).numpy()
            else:
                ref = model(x).numpy()
        got = sess.run(["restored"], feeds)[0]
        worst = max(worst, float(np.abs(ref - got).max()))
    return worst


def build_metadata(model, variant: str, ablate, version: str, extra: dict | None = None,
                   receptive_field: int | None = None) -> dict:
    cfg = get_config(variant, ablate)
    meta = {
        "name": variant,
        "version": version,
        "multiple": 8,
        "receptive_field": (effective_receptive_field(AtSigma(model) if takes_sigma(model) else model)
                            if receptive_field is None else receptive_field),
        "receptive_field_source": "measured on noise (0.5/255)" if receptive_field is None else "given at export",
        "widths": json.dumps([cfg.width, 2 * cfg.width, 4 * cfg.width]),
        "parameters": param_count(model),
        "gflop_per_megapixel": round(gflop_per_megapixel(model), 2),
        "training_data": PRIOR_TRAINING_DATA if takes_sigma(model) else TRAINING_DATA,
        "config": json.dumps({k: v for k, v in cfg.__dict__.items() if k != "extra"}),
        "input": "blurry: float32 [1,3,H,W] RGB in [0,1], H and W multiples of 8",
        "output": "restored: float32 [1,3,H,W], not clamped",
    }
    if takes_sigma(model):
        meta["sigma_input"] = "true"
        meta["input"] += "; sigma: float32 [1], the noise level in the same units"
    if takes_guide(model):
        meta["guide_input"] = "true"
        meta["input"] += "; guide: float32 [1,3,H,W], the blurry photo the input was deconvolved from"
    meta.update(extra or {})
    return meta


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", help="checkpoint from train.py (omit with --random for a test model)")
    p.add_argument("--variant", default="sgenet-tiny", help="with --random: which variant")
    p.add_argument("--random", action="store_true", help="export untrained weights (tests only)")
    p.add_argument("--out", required=True)
    p.add_argument("--version", default="0.1.0")
    p.add_argument("--dev-benchmark", help="JSON from evaluate.py to record in the metadata")
    p.add_argument("--training-time", default="", help="where it trained, appended to the checkpoint's own "
                   "step count and minutes, e.g. 'on 2 CPU cores'")
    p.add_argument("--receptive-field", type=int, metavar="PX",
                   help="record this instead of measuring it (throwaway exports run untiled, e.g. "
                        "ablation arms; the measurement takes a minute on an untrained model)")
    args = p.parse_args(argv)

    extra = {}
    if args.random:
        torch.manual_seed(0)
        model, variant, ablate = build_model(args.variant).eval(), args.variant, []
        extra["training"] = "untrained (random weights, for tests only)"
    else:
        model, ck = load_checkpoint(args.ckpt)
        variant, ablate = ck["variant"], ck.get("ablate", [])
        extra["training"] = f"{ck['step']} steps, {ck['elapsed'] / 60:.0f} min {args.training_time}".strip()
    if args.dev_benchmark:
        bench = json.loads(Path(args.dev_benchmark).read_text())
        extra["dev_benchmark_psnr"] = f"{bench['summary']['model']['psnr']:.2f}"
        extra["dev_benchmark_ssim"] = f"{bench['summary']['model']['ssim']:.4f}"
        extra["dev_benchmark"] = "Kodak24 x Levin09 (192 pairs), sigma 0.01, 8-bit"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"exporting {variant} (ablate={ablate or 'none'}) to {out}", flush=True)
    meta = build_metadata(model, variant, ablate, args.version, extra, args.receptive_field)
    export(model, out, meta)
    diff = check_parity(model, out)
    print(f"metadata: {json.dumps(meta, indent=1)}")
    print(f"parity PyTorch vs ONNX Runtime: max abs diff {diff:.2e} (limit {PARITY_TOL:.0e})")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    if diff >= PARITY_TOL:
        raise SystemExit(f"parity check failed: {diff:.2e} >= {PARITY_TOL:.0e}")


if __name__ == "__main__":
    main()
