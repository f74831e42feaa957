"""Dev benchmark: Kodak24 x the 8 Levin09 kernels (192 pairs), sigma 0.01, seed 0, 8-bit.

    python training/evaluate.py --json bench.json --markdown bench.md            # full table
    python training/evaluate.py --limit 8 --threads 1                           # quick look
    python training/evaluate.py --onnx packages/core/models/sgenet-s.onnx \\
        --ckpt training/runs/sgenet-s/last.pt --extra-onnx ablate-cem=/tmp/cem.onnx

Reports the mean PSNR / SSIM (RGB, full image, sgenet.metrics) over all pairs and per kernel of:
the blurry input; sharp's default ``sharpen()`` (mild 3x3 sharpen on the 8-bit image); a strong
unsharp mask (Gaussian sigma 2, amount 1.5); non-blind Wiener deconvolution with the TRUE kernel
(NSR picked from a fixed grid on the first 4 pairs: an upper reference no blind method gets for
free); and our model(s): an ONNX file through ONNX Runtime (CPU) and optionally a PyTorch
checkpoint. Every output is clipped and quantised to 8 bits before the metrics, like a saved PNG.

The pairs are generated in memory by ``sgenet.benchmark`` (see make_benchmark_pairs.py); nothing
derived from the datasets is written. Deterministic: the same inputs give the same numbers (the
``timing_s`` block aside).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sgenet.baselines import sharp_mild_sharpen, unsharp_mask, wiener_deconvolve  # noqa: E402
from sgenet.benchmark import (DEFAULT_DATA, DEFAULT_KERNELS, NOISE_SIGMA, REPO_ROOT, SEED,  # noqa: E402
                              count_pairs, iter_pairs, load_kernels, to_float, to_uint8)
from sgenet.metrics import psnr, ssim  # noqa: E402

DEFAULT_ONNX = REPO_ROOT / "packages" / "core" / "models" / "sgenet-s.onnx"
NSR_GRID = (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1)
NSR_TUNE_PAIRS = 4
PSNR_CAP = 100.0  # identical images give inf; cap so means and JSON stay finite
UNSHARP_SIGMA, UNSHARP_AMOUNT = 2.0, 1.5


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder of sharp validation images")
    p.add_argument("--kernels", default=str(DEFAULT_KERNELS), help="kernel JSON (levin09.json)")
    p.add_argument("--onnx", default=str(DEFAULT_ONNX),
                   help="our ONNX model (reported as 'model'); 'none' to skip")
    p.add_argument("--extra-onnx", action="append", default=[], metavar="NAME=PATH",
                   help="more ONNX models (ablations, other variants), reported under NAME")
    p.add_argument("--ckpt", help="a train.py checkpoint, run with PyTorch (reported as 'model_torch')")
    p.add_argument("--limit", type=int, default=0, help="evaluate the first N pairs only (0: all)")
    p.add_argument("--threads", type=int, default=0, help="ORT/torch threads (0: library default)")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--markdown", help="write the table here")
    p.add_argument("--allow-missing", action="store_true",
                   help="exit 0 with a message (instead of failing) when the datasets are absent")
    return p.parse_args(argv)


# --------------------------------------------------------------------------------------- models

def pad_to_multiple(x: np.ndarray, multiple: int) -> tuple[np.ndarray, int, int]:
    """NCHW float32, reflect-padded at the bottom/right to a multiple; returns (padded, H, W)."""
    h, w = x.shape[2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="reflect")
    return x, h, w


def restore(run, blurry_u8: np.ndarray, multiple: int) -> np.ndarray:
    """HxWx3 uint8 -> model (NCHW float, padded to ``multiple``) -> cropped, clamped HxWx3 uint8."""
    x = to_float(blurry_u8).transpose(2, 0, 1)[None]
    x, h, w = pad_to_multiple(np.ascontiguousarray(x, dtype=np.float32), multiple)
    return to_uint8(run(x)[0, :, :h, :w].transpose(1, 2, 0))


class OnnxModel:
    def __init__(self, path: str | Path, threads: int = 0):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        self.path = Path(path)
        self.sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.meta = dict(self.sess.get_modelmeta().custom_metadata_map)
        self.multiple = int(self.meta.get("multiple", 8))
        names_in = [i.name for i in self.sess.get_inputs()]
        names_out = [o.name for o in self.sess.get_outputs()]
        if names_in != ["blurry"] or names_out != ["restored"]:
            raise SystemExit(f"{path}: expected input 'blurry' and output 'restored', got {names_in} -> {names_out}")

    def describe(self) -> str:
        m = self.meta
        return (f"{m.get('name', self.path.stem)} {m.get('version', '')} via ONNX Runtime CPU "
                f"({self.path.name}; {m.get('training', 'training unknown')})")

    def __call__(self, blurry_u8: np.ndarray) -> np.ndarray:
        return restore(lambda x: self.sess.run(["restored"], {"blurry": x})[0], blurry_u8, self.multiple)


class TorchModel:
    def __init__(self, path: str | Path, threads: int = 0):
        import torch

        from export import load_checkpoint

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        self.path = Path(path)
        self.model, ck = load_checkpoint(path)
        self.info = {"variant": ck.get("variant"), "ablate": ck.get("ablate", []), "step": ck.get("step"),
                     "minutes": round(ck.get("elapsed", 0) / 60, 1)}
        self.multiple = getattr(self.model, "multiple", 8)

    def describe(self) -> str:
        i = self.info
        return (f"{i['variant']} (ablate={i['ablate'] or 'none'}) PyTorch checkpoint {self.path.name}, "
                f"EMA weights, step {i['step']}, {i['minutes']} min")

    def __call__(self, blurry_u8: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            return restore(lambda x: self.model(self.torch.from_numpy(x)).numpy(), blurry_u8, self.multiple)


# ------------------------------------------------------------------------------------ baselines

def pick_wiener_nsr(data, kernels, grid=NSR_GRID, n=NSR_TUNE_PAIRS) -> tuple[float, dict]:
    """The grid value with the best mean PSNR on the first ``n`` benchmark pairs."""
    scores = {nsr: [] for nsr in grid}
    for pair in iter_pairs(data, kernels, limit=n):
        sharp, blurry = to_float(pair.sharp), to_float(pair.blurry)
        for nsr in grid:
            out = to_float(to_uint8(wiener_deconvolve(blurry, pair.kernel, nsr)))
            scores[nsr].append(min(psnr(sharp, out), PSNR_CAP))
    means = {nsr: float(np.mean(v)) for nsr, v in scores.items()}
    best = max(grid, key=lambda nsr: (means[nsr], -nsr))
    return best, means


def build_methods(args, nsr: float) -> tuple[dict, dict]:
    """name -> fn(pair) -> uint8 HxWx3, and name -> human-readable label."""
    methods = {
        "blurry": lambda p: p.blurry,
        "sharpen": lambda p: sharp_mild_sharpen(p.blurry),
        "unsharp_strong": lambda p: to_uint8(unsharp_mask(to_float(p.blurry), UNSHARP_SIGMA, UNSHARP_AMOUNT)),
        "wiener": lambda p: to_uint8(wiener_deconvolve(to_float(p.blurry), p.kernel, nsr)),
    }
    labels = {
        "blurry": "blurry input",
        "sharpen": "sharp().sharpen() default (mild 3x3 sharpen)",
        "unsharp_strong": f"strong unsharp mask (Gaussian sigma {UNSHARP_SIGMA:g}, amount {UNSHARP_AMOUNT:g})",
        "wiener": f"Wiener deconvolution, TRUE kernel, NSR {nsr:g} (non-blind upper reference)",
    }
    models = []
    if args.onnx and args.onnx.lower() != "none":
        models.append(("model", OnnxModel(args.onnx, args.threads)))
    for spec in args.extra_onnx:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"--extra-onnx expects NAME=PATH, got {spec!r}")
        if name in methods or name in dict(models):
            raise SystemExit(f"--extra-onnx name {name!r} is already taken")
        models.append((name, OnnxModel(path, args.threads)))
    if args.ckpt:
        models.append(("model_torch", TorchModel(args.ckpt, args.threads)))
    for name, m in models:
        methods[name] = lambda p, m=m: m(p.blurry)
        labels[name] = m.describe()
    return methods, labels


# ------------------------------------------------------------------------------------- reporting

def _mean(vals):
    return {"psnr": float(np.mean([v[0] for v in vals])), "ssim": float(np.mean([v[1] for v in vals])),
            "n": len(vals)} if vals else {"psnr": None, "ssim": None, "n": 0}


def _fmt(v, digits):
    return "–" if v is None else f"{v:.{digits}f}"


def markdown_table(result: dict) -> str:
    s = result["settings"]
    methods = list(result["summary"])
    nk = len(result["per_kernel"][methods[0]])
    lines = [
        f"Dev benchmark: {s['dataset']} x {s['kernel_set']} ({result['pairs']} of "
        f"{s['total_pairs']} pairs), reflect border, Gaussian noise sigma {s['noise_sigma']}, "
        f"seed {s['seed']}, 8-bit round trip. Mean PSNR (dB) / SSIM, RGB, full image.",
        "",
        "| method | PSNR | SSIM |",
        "|---|---:|---:|",
    ]
    for m in methods:
        r = result["summary"][m]
        lines.append(f"| {result['labels'][m]} | {_fmt(r['psnr'], 2)} | {_fmt(r['ssim'], 4)} |")
    lines += ["", "Per kernel, PSNR / SSIM:", "",
              "| method | " + " | ".join(f"k{i + 1}" for i in range(nk)) + " |",
              "|---|" + "---:|" * nk]
    for m in methods:
        cells = [f"{_fmt(r['psnr'], 2)} / {_fmt(r['ssim'], 3)}" for r in result["per_kernel"][m]]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["", f"Wiener NSR {s['wiener_nsr']:g}, picked from {list(s['wiener_nsr_grid'])} by mean "
              f"PSNR on the first {s['wiener_nsr_tuned_on_pairs']} pairs."]
    return "\n".join(lines) + "\n"


def evaluate(args) -> dict:
    data, kernels = Path(args.data), Path(args.kernels)
    missing = [str(p) for p in (data, kernels) if not p.exists()]
    if missing:
        msg = (f"dev-benchmark data not found: {', '.join(missing)}. The benchmark reads Kodak24 and "
               f"the Levin09 kernels from ../shared/datasets beside the repository (never copied into it).")
        if args.allow_missing:
            print(f"SKIPPED: {msg}", flush=True)
            raise SystemExit(0)
        raise SystemExit(f"error: {msg} Pass --data/--kernels, or --allow-missing to skip.")
    if args.onnx and args.onnx.lower() != "none" and not Path(args.onnx).exists():
        raise SystemExit(f"error: ONNX model {args.onnx} not found (pass --onnx PATH, or --onnx none)")

    total = count_pairs(data, kernels)
    n = total if args.limit <= 0 else min(args.limit, total)
    n_kernels = len(load_kernels(kernels))
    t0 = time.time()
    nsr, nsr_scores = pick_wiener_nsr(data, kernels)
    print(f"Wiener NSR {nsr:g} (non-blind upper reference; picked on the first {NSR_TUNE_PAIRS} pairs: "
          + ", ".join(f"{k:g}: {v:.2f} dB" for k, v in nsr_scores.items()) + ")", flush=True)
    methods, labels = build_methods(args, nsr)
    for name, label in labels.items():
        print(f"  {name:15s} {label}", flush=True)

    scores = {m: [] for m in methods}          # (psnr, ssim, kernel_index, image_name)
    timing = {m: 0.0 for m in methods}
    for pair in iter_pairs(data, kernels, limit=n):
        sharp = to_float(pair.sharp)
        parts = []
        for name, fn in methods.items():
            t = time.time()
            out = fn(pair)
            timing[name] += time.time() - t
            assert out.dtype == np.uint8 and out.shape == pair.sharp.shape, name
            out = to_float(out)
            s = (min(psnr(sharp, out), PSNR_CAP), ssim(sharp, out), pair.kernel_index, pair.image_name)
            scores[name].append(s)
            parts.append(f"{name} {s[0]:.2f}")
        print(f"[{pair.index + 1:3d}/{n}] {pair.image_name} k{pair.kernel_index + 1}  "
              f"{time.time() - t0:6.1f}s  " + "  ".join(parts), flush=True)

    result = {
        "pairs": n,
        "summary": {m: {k: v for k, v in _mean(s).items() if k != "n"} for m, s in scores.items()},
        "per_kernel": {m: [_mean([v for v in s if v[2] == k]) for k in range(n_kernels)]
                       for m, s in scores.items()},
        "labels": labels,
        "settings": {
            "dataset": data.name, "kernel_set": kernels.stem, "total_pairs": total,
            "order": "image-major: each image (sorted by name) with kernels 1..K",
            "border": "reflect", "noise_sigma": NOISE_SIGMA, "seed": SEED,
            "quantisation": "clip to [0,1], floor(255x+0.5) to uint8, for inputs and every output",
            "metrics": "mean over pairs of PSNR (peak 1, RGB, full image, capped at 100 dB) and SSIM "
                       "(Gaussian 11x11 sigma 1.5, valid region, mean over RGB)",
            "wiener_nsr": nsr, "wiener_nsr_grid": list(NSR_GRID),
            "wiener_nsr_tuned_on_pairs": NSR_TUNE_PAIRS,
            "wiener_nsr_scores": {f"{k:g}": round(v, 4) for k, v in nsr_scores.items()},
            "sharpen": "3x3 mask [-1,-1,-1;-1,32,-1;-1,-1,-1]/24 on the 8-bit image, edge replicate, round, clip",
            "unsharp_strong": {"sigma": UNSHARP_SIGMA, "amount": UNSHARP_AMOUNT},
            "model_padding": "reflect to a multiple of the model's 'multiple' (8), crop back, clamp, 8-bit",
            "onnx": None if not args.onnx or args.onnx.lower() == "none" else Path(args.onnx).name,
            "extra_onnx": args.extra_onnx, "ckpt": Path(args.ckpt).name if args.ckpt else None,
            "limit": args.limit, "threads": args.threads,
        },
        "timing_s": {"total": round(time.time() - t0, 1),
                     "per_pair": {m: round(t / max(n, 1), 3) for m, t in timing.items()}},
    }
    return result


def main(argv=None):
    args = parse_args(argv)
    result = evaluate(args)
    table = markdown_table(result)
    print()
    print(table, flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
        print(f"wrote {args.json}")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(table)
        print(f"wrote {args.markdown}")
    return result


if __name__ == "__main__":
    main()
