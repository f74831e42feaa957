"""Plot a run's learning curve (curve.jsonl from train.py --val) to a PNG: PSNR of each validation
series against CPU hours of training, with the step count on the points.

    python training/plot_curve.py training/runs/sgenet-s-sigma/curve.jsonl \
        training/results/learning-curve-sgenet-s-sigma.png \
        --ref "hyper-Laplacian, true kernel=28.87" --ref "hyper-Laplacian, perturbed kernel=27.23"

``--ref LABEL=dB`` draws a dashed reference line (a baseline measured on the same windows).

Drawn with Pillow alone (no plotting library in training/requirements.txt).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image, ImageDraw

SERIES = {  # name in curve.jsonl -> (label, colour)
    "pnp1": ("HQS N=1, true kernel", (31, 119, 180)),
    "pnp4": ("HQS N=4, true kernel", (44, 160, 44)),
    "pnp1_wrong_kernel": ("HQS N=1, perturbed kernel", (255, 127, 14)),
    "denoise25": ("denoising, sigma 25/255", (148, 103, 189)),
    "pnp1_core": ("one pass at core's 0.12, true kernel", (23, 190, 207)),
    "pnp1_core_wrong_kernel": ("one pass at core's 0.12, perturbed", (214, 39, 40)),
    "blurry": ("blurry input", (127, 127, 127)),
}
W, H, LEFT, RIGHT, TOP, BOTTOM = 900, 520, 70, 250, 30, 60


def read_curve(path: str | Path) -> list[dict]:
    points = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    if not points:
        raise ValueError(f"{path} holds no curve point: run train.py with --val")
    return points


def plot(points: list[dict], out: str | Path, title: str, refs: dict[str, float] | None = None) -> None:
    refs = refs or {}
    hours = [p["train_minutes"] / 60 for p in points]
    values = [p[k] for p in points for k in SERIES if k in p] + list(refs.values())
    lo, hi = min(values) - 0.5, max(values) + 0.5
    x_max = max(max(hours), 1e-3)
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    px = lambda h: LEFT + (W - LEFT - RIGHT) * h / x_max
    py = lambda v: TOP + (H - TOP - BOTTOM) * (hi - v) / (hi - lo)
    d.rectangle([LEFT, TOP, W - RIGHT, H - BOTTOM], outline="black")
    for i in range(6):
        v = lo + (hi - lo) * i / 5
        d.line([LEFT - 4, py(v), LEFT, py(v)], fill="black")
        d.text((8, py(v) - 6), f"{v:.1f} dB", fill="black")
        h = x_max * i / 5
        d.line([px(h), H - BOTTOM, px(h), H - BOTTOM + 4], fill="black")
        d.text((px(h) - 12, H - BOTTOM + 8), f"{h:.2f}", fill="black")
    d.text((LEFT + 150, H - 25), "training time, CPU hours (2 cores)", fill="black")
    d.text((LEFT, 8), title, fill="black")
    for row, (key, (label, colour)) in enumerate(SERIES.items()):
        pts = [(px(h), py(p[key])) for h, p in zip(hours, points) if key in p]
        if len(pts) > 1:
            d.line(pts, fill=colour, width=2)
        for x, y in pts:
            d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        d.line([W - RIGHT + 15, TOP + 10 + 20 * row, W - RIGHT + 35, TOP + 10 + 20 * row], fill=colour, width=3)
        d.text((W - RIGHT + 40, TOP + 4 + 20 * row), label, fill="black")
    for row, (label, v) in enumerate(refs.items(), start=len(SERIES)):
        for x in range(LEFT, W - RIGHT, 12):
            d.line([x, py(v), min(x + 6, W - RIGHT), py(v)], fill=(90, 90, 90), width=1)
        d.text((LEFT + 4, py(v) - 12), f"{label} {v:.2f}", fill=(90, 90, 90))
    d.text((W - RIGHT + 15, TOP + 20 * len(SERIES) + 20), f"last: step {points[-1]['step']}", fill="black")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    img.save(out)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("curve")
    ap.add_argument("out")
    ap.add_argument("--ref", action="append", default=[], metavar="LABEL=dB")
    args = ap.parse_args()
    refs = {}
    for r in args.ref:
        label, _, value = r.rpartition("=")
        if not label:
            ap.error(f"--ref {r!r}: expected LABEL=dB")
        refs[label] = float(value)
    curve = read_curve(args.curve)
    plot(curve, args.out, f"{Path(args.curve).stem}: validation PSNR (8 Kodak windows, 1% noise)", refs)
    print(f"{len(curve)} points -> {args.out}")
