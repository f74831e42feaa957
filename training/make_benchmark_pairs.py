"""Generate the dev-benchmark pairs (Kodak24 x Levin09, sigma 0.01, seed 0, 8-bit) and fingerprint them.

    python training/make_benchmark_pairs.py                    # print the pair list and a SHA-256
    python training/make_benchmark_pairs.py --out /tmp/bench   # also write blurry PNGs (outside the repo)

The pairs are normally produced in memory by evaluate.py through ``sgenet.benchmark``; this script
exists to inspect them, to check determinism (the digest must never change) and to feed other tools
(e.g. the Node backends) from a folder *outside* the repository: the datasets are third-party, so
no derived image may be written into the project tree.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sgenet.benchmark import (DEFAULT_DATA, DEFAULT_KERNELS, NOISE_SIGMA, REPO_ROOT, SEED,  # noqa: E402
                              count_pairs, digest, inside_repo, iter_pairs, to_float)
from sgenet.metrics import psnr  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(DEFAULT_DATA), help="folder of sharp images (Kodak24)")
    p.add_argument("--kernels", default=str(DEFAULT_KERNELS), help="kernel JSON (levin09.json)")
    p.add_argument("--limit", type=int, default=0, help="first N pairs only (0: all)")
    p.add_argument("--out", help="write blurry PNGs + manifest.json here (must be outside the repository)")
    p.add_argument("--allow-missing", action="store_true", help="exit 0 with a message when the data is absent")
    return p.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    data, kernels = Path(args.data), Path(args.kernels)
    missing = [str(p) for p in (data, kernels) if not p.exists()]
    if missing:
        msg = f"benchmark data not found: {', '.join(missing)} (expected ../shared/datasets beside the repo)"
        if args.allow_missing:
            print(f"SKIPPED: {msg}")
            raise SystemExit(0)
        raise SystemExit(f"error: {msg}")
    out = Path(args.out) if args.out else None
    if out is not None and inside_repo(out):
        raise SystemExit(f"error: --out {out} is inside the repository ({REPO_ROOT}); benchmark images are "
                         "derived from third-party data and must stay outside it")
    total = count_pairs(data, kernels)
    n = total if args.limit <= 0 else min(args.limit, total)
    print(f"{data.name} x {kernels.stem}: {n} of {total} pairs, reflect border, noise sigma {NOISE_SIGMA}, "
          f"seed {SEED}, 8-bit", flush=True)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    manifest, pairs_for_digest, t0 = [], [], time.time()

    def gen():
        for pair in iter_pairs(data, kernels, limit=n):
            p = psnr(to_float(pair.sharp), to_float(pair.blurry))
            name = f"{Path(pair.image_name).stem}_k{pair.kernel_index + 1}.png"
            entry = {"index": pair.index, "image": pair.image_name, "kernel": pair.kernel_index,
                     "blurry": name, "psnr_blurry": round(p, 4)}
            if out is not None:
                Image.fromarray(pair.blurry).save(out / name)
            manifest.append(entry)
            print(f"[{pair.index + 1:3d}/{n}] {name}  blurry PSNR {p:.2f} dB  {time.time() - t0:.1f}s", flush=True)
            yield pair

    h = digest(gen())
    mean = float(np.mean([e["psnr_blurry"] for e in manifest]))
    print(f"mean blurry PSNR {mean:.3f} dB over {n} pairs")
    print(f"sha256 of the blurry pairs: {h}")
    if out is not None:
        (out / "manifest.json").write_text(json.dumps(
            {"pairs": n, "total_pairs": total, "noise_sigma": NOISE_SIGMA, "seed": SEED, "sha256": h,
             "sharp_dir": str(data.resolve()), "entries": manifest}, indent=1) + "\n")
        print(f"wrote {n} PNGs and manifest.json to {out}")
    return h


if __name__ == "__main__":
    main()
