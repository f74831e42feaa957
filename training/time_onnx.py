"""A/B timing of ONNX exports of the same weights on ONNX Runtime CPU (e.g. before and after a
graph rewrite): checks that the outputs agree, then times the files in interleaved runs, so
machine noise hits both alike, and prints the median of each and their ratio.

    python training/time_onnx.py packages/core/models/sgenet-s.onnx /tmp/rewritten.onnx --size 1024
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import OnnxModel  # noqa: E402  (session options and the export contract's names)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("baseline", help="ONNX file A")
    p.add_argument("candidate", help="ONNX file B (same weights)")
    p.add_argument("--size", type=int, default=1024, help="square input side, a multiple of 8")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    if args.size % 8:
        p.error(f"--size must be a multiple of 8; got {args.size}")

    a, b = OnnxModel(args.baseline, args.threads).sess, OnnxModel(args.candidate, args.threads).sess
    x = np.random.default_rng(0).random((1, 3, args.size, args.size), dtype=np.float32)
    diff = float(np.abs(a.run(None, {"blurry": x})[0] - b.run(None, {"blurry": x})[0]).max())
    print(f"{args.size}x{args.size}, {args.threads} threads: max abs output difference {diff:.2e}")
    times = {"A": [], "B": []}
    for _ in range(args.runs):
        for name, sess in (("A", a), ("B", b)):
            t0 = time.perf_counter()
            sess.run(None, {"blurry": x})
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, path in (("A", args.baseline), ("B", args.candidate)):
        print(f"{k} {path}: median {med[k] * 1000:.0f} ms  runs {[round(t * 1000) for t in times[k]]}")
    print(f"B/A time ratio {med['B'] / med['A']:.3f}")


if __name__ == "__main__":
    main()
