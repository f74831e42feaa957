"""Build the restoration bank the kernel-guided SGENet trains on (issue #16): sharp training photos
blurred with the project's camera-shake paths, each deconvolved exactly as @sgenet/core does it.

    python training/make_restoration_bank.py                       # CBSD432 x 2 variants -> ~/.cache/sgenet/restoration-bank
    python training/make_restoration_bank.py --limit 8 --out /tmp/bank --variants 1

Per photo and variant (seeded, so a rerun makes the same bank):
  1. blur: a trajectory kernel of 7-35 px, curled or sweeping (--p-sweep), sometimes in linear light
     or non-uniform (two paths blended across the frame); --p-sharp of them not blurred (identity);
     then noise (sigma up to --max-noise) and sometimes JPEG. The blurred 8-bit PNG and the true
     kernel are written, with what was done, to items.jsonl.
  2. deconvolve: the Node half (tools/bench/dist/training-bank.js) runs the product's estimator on
     every item (the bank keeps its failures and its identity fallbacks) and deconvolves either with
     the estimated kernel or, for --p-perturbed of the items, with the true kernel perturbed the way
     estimates go wrong (sgenet/perturb.py). No second implementation of either.
Resumable at both steps: items already written or done are skipped. The output folder must be
outside the repository: everything in it is derived from third-party photos.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sgenet.benchmark import REPO_ROOT, inside_repo, to_uint8  # noqa: E402
from sgenet.blur import (DEFAULT_INERTIA, convolve, jpeg_roundtrip, linear_to_srgb,  # noqa: E402
                         smooth_mask, srgb_to_linear, trajectory_kernel)
from sgenet.data import list_images, load_rgb  # noqa: E402
from sgenet.perturb import perturb  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "datasets" / "train" / "CBSD432"
DEFAULT_OUT = Path.home() / ".cache" / "sgenet" / "restoration-bank"
NODE_HALF = REPO_ROOT / "tools" / "bench" / "dist" / "training-bank.js"
SWEEP_INERTIA = (0.85, 0.99)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder of sharp training photos (CBSD432)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="bank folder, outside the repository")
    p.add_argument("--variants", type=int, default=2, help="blurred versions per photo")
    p.add_argument("--limit", type=int, default=0, help="first N photos only (0: all)")
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--lengths", type=float, nargs=2, default=(7.0, 35.0), metavar=("MIN", "MAX"))
    p.add_argument("--p-sweep", type=float, default=0.5, help="share of sweeping (near-straight) paths")
    p.add_argument("--p-sharp", type=float, default=0.1, help="share left sharp (identity kernel)")
    p.add_argument("--p-linear", type=float, default=0.3, help="share blurred in linear light")
    p.add_argument("--p-nonuniform", type=float, default=0.15, help="share with two paths blended")
    p.add_argument("--max-noise", type=float, default=0.02)
    p.add_argument("--p-jpeg", type=float, default=0.25)
    p.add_argument("--p-perturbed", type=float, default=0.3, help="share deconvolved with a perturbed true kernel")
    p.add_argument("--max-size", type=int, default=None, help="largest kernel side for the estimator (odd)")
    p.add_argument("--shards", type=int, default=1, help="Node processes in parallel")
    p.add_argument("--synthesize-only", action="store_true", help="stop after step 1")
    args = p.parse_args(argv)
    for name in ("p_sweep", "p_sharp", "p_linear", "p_nonuniform", "p_jpeg", "p_perturbed"):
        if not 0 <= getattr(args, name) <= 1:
            p.error(f"--{name.replace('_', '-')} must be between 0 and 1")
    if not 1 <= args.lengths[0] <= args.lengths[1] <= 255:
        p.error("--lengths needs 1 <= MIN <= MAX <= 255")
    if args.variants < 1 or args.shards < 1:
        p.error("--variants and --shards must be at least 1")
    return args


def kernel_json(k: np.ndarray) -> dict:
    k = np.asarray(k, dtype=np.float64)
    return {"width": int(k.shape[1]), "height": int(k.shape[0]), "data": [float(v) for v in (k / k.sum()).ravel()]}


def degrade(sharp: np.ndarray, rng: np.random.Generator, args) -> tuple[np.ndarray, dict]:
    """The blurred photo (float, [0, 1]) and what was done to it."""
    meta: dict = {}
    if rng.random() < args.p_sharp:
        blurred, kernel = sharp.copy(), np.ones((1, 1), np.float32)
        meta["sharp"] = True
    else:
        def path():
            sweep = rng.random() < args.p_sweep
            return trajectory_kernel(rng, float(rng.uniform(*args.lengths)),
                                     inertia_range=SWEEP_INERTIA if sweep else DEFAULT_INERTIA), sweep
        kernel, meta["sweep"] = path()
        linear = rng.random() < args.p_linear
        src = srgb_to_linear(sharp) if linear else sharp
        blurred = convolve(src, kernel)
        if rng.random() < args.p_nonuniform:
            other, _ = path()
            m = smooth_mask(rng, *sharp.shape[:2])
            blurred = m * blurred + (1 - m) * convolve(src, other)
            meta["nonuniform"] = kernel_json(other)
        blurred = linear_to_srgb(blurred) if linear else blurred
        meta["linear"] = bool(linear)
    sigma = float(rng.uniform(0, args.max_noise))
    blurred = np.clip(blurred + rng.normal(0, sigma, blurred.shape), 0, 1)
    meta["noise"] = sigma
    if rng.random() < args.p_jpeg:
        q = int(rng.integers(60, 96))
        blurred = jpeg_roundtrip(blurred, q)
        meta["jpeg"] = q
    meta["kernel"] = kernel_json(kernel)
    return blurred.astype(np.float32), meta


def synthesize(args, out: Path) -> Path:
    """Step 1: blurred PNGs and items.jsonl (appended; items already there are kept)."""
    photos = list_images(args.data)
    if args.limit:
        photos = photos[:args.limit]
    if not photos:
        raise SystemExit(f"no images in {args.data}")
    (out / "blurred").mkdir(parents=True, exist_ok=True)
    items_path = out / "items.jsonl"
    known = set()
    if items_path.exists():
        known = {json.loads(line)["id"] for line in items_path.read_text().splitlines() if line.strip()}
    added = 0
    with items_path.open("a") as f:
        for i, photo in enumerate(photos):
            for v in range(args.variants):
                item_id = f"{photo.stem}_v{v}"
                if item_id in known:
                    continue
                rng = np.random.default_rng([args.seed, i, v])
                blurred, meta = degrade(load_rgb(photo).astype(np.float32) / 255.0, rng, args)
                png = out / "blurred" / f"{item_id}.png"
                tmp = png.with_suffix(".tmp.png")
                Image.fromarray(to_uint8(blurred)).save(tmp)
                os.replace(tmp, png)
                deconv: str | dict = "estimated"
                if not meta.get("sharp") and rng.random() < args.p_perturbed:
                    k, kind = perturb(np.asarray(meta["kernel"]["data"]).reshape(meta["kernel"]["height"], meta["kernel"]["width"]), rng)
                    deconv, meta["perturbation"] = kernel_json(k), kind
                item = {"id": item_id, "photo": str(photo), "blurred": str(png), "deconvolve": deconv, **meta}
                f.write(json.dumps(item) + "\n")
                f.flush()
                added += 1
    print(f"step 1: {len(photos)} photos x {args.variants} variants: {added} new items ({len(known)} already there) -> {items_path}")
    return items_path


def deconvolve_all(args, items_path: Path, out: Path) -> None:
    """Step 2: the Node half, in --shards processes."""
    if not NODE_HALF.exists():
        raise SystemExit(f"{NODE_HALF} is missing: run `npm run build` first (the bank uses the product's own code)")
    (out / "deconvolved").mkdir(exist_ok=True)
    cmd = ["node", str(NODE_HALF), "--items", str(items_path), "--out", str(out / "deconvolved")]
    if args.max_size:
        cmd += ["--max-size", str(args.max_size)]
    print(f"step 2: {' '.join(cmd)} (x{args.shards} shards)")
    procs = [subprocess.Popen(cmd + ["--shard", f"{s}/{args.shards}"]) for s in range(args.shards)]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f"the Node half failed (exit codes {codes}); rerun to resume")


def summarize(items_path: Path, out: Path) -> dict:
    items = [json.loads(line) for line in items_path.read_text().splitlines() if line.strip()]
    done = [json.loads((out / "deconvolved" / f"{it['id']}.done.json").read_text())
            for it in items if (out / "deconvolved" / f"{it['id']}.done.json").exists()]
    used = {k: sum(1 for d in done if d["used"] == k) for k in ("estimated", "given", "identity")}
    blurred = [it for it in items if not it.get("sharp")]
    ids_blurred = {it["id"] for it in blurred}
    fallbacks = sum(1 for d in done if d["identity"] and d["id"] in ids_blurred)
    sharp_kept = sum(1 for d in done if d["identity"] and d["id"] not in ids_blurred)
    summary = {"items": len(items), "done": len(done), "used": used,
               "identity_on_blurred": fallbacks, "identity_on_sharp": sharp_kept,
               "sharp_items": len(items) - len(blurred),
               "estimate_seconds_mean": float(np.mean([d["seconds"]["estimate"] for d in done])) if done else 0.0}
    print(f"bank: {summary['done']}/{summary['items']} items done; deconvolved with the estimated kernel {used['estimated']}, "
          f"a perturbed true kernel {used['given']}, not deconvolved (identity) {used['identity']}; "
          f"identity fallbacks on blurred photos {fallbacks}, sharp photos left alone {sharp_kept}/{summary['sharp_items']}; "
          f"estimation {summary['estimate_seconds_mean']:.1f} s per photo on average")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv=None) -> dict:
    args = parse_args(argv)
    out = Path(args.out).expanduser().resolve()
    if inside_repo(out):
        raise SystemExit(f"--out {out} is inside the repository: the bank is derived from third-party photos; write it elsewhere")
    t0 = time.time()
    items_path = synthesize(args, out)
    if not args.synthesize_only:
        deconvolve_all(args, items_path, out)
    summary = summarize(items_path, out)
    print(f"done in {time.time() - t0:.0f} s")
    return summary


if __name__ == "__main__":
    main()
