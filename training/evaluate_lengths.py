"""Blur-length sweep: how much does the model gain, by camera-shake path length?

    python training/evaluate_lengths.py                       # the shipped ONNX model, Kodak24
    python training/evaluate_lengths.py --ckpt training/runs/sgenet-s/last.pt --images 4
    python training/evaluate_lengths.py --inertia 0.95 0.99   # sweeping shakes: wide kernels

The dev benchmark (evaluate.py) uses 8 fixed recorded kernels; this sweep shows where the model
works and where it stops working (the model card's "known limits"). Each validation photo is
blurred with the project's own trajectory kernels (``blur.trajectory_kernel``) at each path
length (0 = no blur at all: does the model leave a sharp photo alone?), reflect border, Gaussian
noise sigma 0.01, 8-bit round trip. Kernel and noise come from a generator seeded by (seed, image,
length), so a run on fewer images is a prefix of the full one. Nothing is written but the report.
``--inertia`` picks the camera paths' shape: the default curls them (a 30 px path spreads ~3 px
RMS), near 0.99 they sweep nearly straight (~8 px), like the wider recorded shakes.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import DEFAULT_ONNX, PSNR_CAP, OnnxModel, TorchModel  # noqa: E402
from sgenet import benchmark  # noqa: E402
from sgenet.benchmark import DEFAULT_DATA, NOISE_SIGMA, to_float  # noqa: E402
from sgenet.blur import DEFAULT_INERTIA, inertia_range_problem, trajectory_kernel  # noqa: E402
from sgenet.data import list_images, load_rgb  # noqa: E402
from sgenet.metrics import psnr  # noqa: E402

DEFAULT_LENGTHS = (0, 2, 4, 8, 12, 16, 20, 25, 30)
NO_BLUR = np.ones((1, 1))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder of sharp validation photos")
    p.add_argument("--onnx", default=str(DEFAULT_ONNX), help="ONNX model (ignored with --ckpt)")
    p.add_argument("--ckpt", help="a train.py checkpoint instead (EMA weights, PyTorch)")
    p.add_argument("--lengths", type=float, nargs="+", default=DEFAULT_LENGTHS, help="path lengths, px")
    p.add_argument("--inertia", type=float, nargs=2, default=DEFAULT_INERTIA, metavar=("MIN", "MAX"),
                   help="camera inertia range of the kernels (near 1: straighter, wider paths)")
    p.add_argument("--images", type=int, default=0, help="first N photos only (0: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    if problem := inertia_range_problem(args.inertia):
        p.error(f"--inertia {problem}")
    return args


def degrade(sharp_u8: np.ndarray, length: float, rng: np.random.Generator,
            inertia: tuple[float, float] = DEFAULT_INERTIA) -> np.ndarray:
    """The dev benchmark's degradation (benchmark.degrade) with a project-made kernel."""
    kernel = trajectory_kernel(rng, length=length, inertia_range=inertia) if length > 0 else NO_BLUR
    return benchmark.degrade(sharp_u8, kernel, rng)


def sweep(args) -> dict:
    data = Path(args.data)
    if not data.is_dir():
        raise SystemExit(f"error: {data} not found: the sweep reads the validation photos from "
                         f"../shared/datasets beside the repository (pass --data)")
    model = TorchModel(args.ckpt, args.threads) if args.ckpt else OnnxModel(args.onnx, args.threads)
    files = list_images(data)
    files = files[:args.images] if args.images > 0 else files
    sharps = [load_rgb(f) for f in files]
    refs = [to_float(s) for s in sharps]
    inertia = tuple(args.inertia)
    print(f"{model.describe()}\n{len(files)} photos from {data.name}, lengths {list(args.lengths)} px, "
          f"inertia {inertia[0]:g}-{inertia[1]:g}, noise sigma {NOISE_SIGMA}", flush=True)
    rows, t0 = [], time.time()
    for li, length in enumerate(args.lengths):
        blurry_db, model_db = [], []
        for ii, (sharp, ref) in enumerate(zip(sharps, refs)):
            blurry = degrade(sharp, length, np.random.default_rng([args.seed, ii, li]), inertia)
            blurry_db.append(min(psnr(ref, to_float(blurry)), PSNR_CAP))
            model_db.append(min(psnr(ref, to_float(model(blurry))), PSNR_CAP))
        gains = np.array(model_db) - np.array(blurry_db)
        row = {"length": length, "blurry": float(np.mean(blurry_db)), "model": float(np.mean(model_db)),
               "gain": float(gains.mean()), "min_gain": float(gains.min()), "max_gain": float(gains.max())}
        rows.append(row)
        print(f"length {length:5.1f} px  blurry {row['blurry']:6.2f}  model {row['model']:6.2f}  "
              f"gain {row['gain']:+.2f} dB (min {row['min_gain']:+.2f}, max {row['max_gain']:+.2f})  "
              f"{time.time() - t0:.0f}s", flush=True)
    return {"model": model.describe(), "dataset": data.name, "images": len(files),
            "noise_sigma": NOISE_SIGMA, "seed": args.seed, "inertia": list(inertia), "rows": rows}


def markdown(result: dict) -> str:
    lo, hi = result.get("inertia", DEFAULT_INERTIA)
    lines = [f"Blur-length sweep: {result['images']} {result['dataset']} photos x project-made trajectory "
             f"kernels (inertia {lo:g}-{hi:g}), noise sigma {result['noise_sigma']}, 8-bit; "
             f"{result['model']}.", "",
             "| path length (px) | blurry PSNR | model PSNR | gain (mean) | gain (worst photo) |",
             "|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['length']:g} | {r['blurry']:.2f} | {r['model']:.2f} | {r['gain']:+.2f} | "
                     f"{r['min_gain']:+.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    result = sweep(args)
    print()
    print(markdown(result), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
