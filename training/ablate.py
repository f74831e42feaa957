"""Ablation at equal budget: the same variant trained with and without CEM and CSAM for the same
number of steps (same batch, crop, seed, learning rate), then scored on a prefix of the dev
benchmark. Each arm runs in its own process with one thread, so they can run side by side.

    python training/ablate.py --data ../shared/datasets/train --steps 600 --limit 24 \
        --out training/runs/ablation --json ablation.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARMS = {"full": [], "no_cem": ["cem"], "no_csam": ["csam"], "no_cem_no_csam": ["cem", "csam"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--variant", default="sgenet-s")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--blur-lengths", type=float, nargs=2, default=(3, 20), metavar=("MIN", "MAX"))
    p.add_argument("--limit", type=int, default=24, help="benchmark pairs to score (prefix)")
    p.add_argument("--arms", nargs="*", default=list(ARMS), choices=list(ARMS))
    p.add_argument("--out", required=True)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)

    out = Path(args.out)
    procs = {}
    for arm in args.arms:
        cmd = [sys.executable, str(HERE / "train.py"), "--data", args.data, "--variant", args.variant,
               "--out", str(out / arm), "--minutes", "100000", "--max-steps", str(args.steps),
               "--batch", str(args.batch), "--crop", str(args.crop), "--lr", str(args.lr),
               "--threads", "1", "--resume", "--log-every", "50",
               "--blur-lengths", *(str(v) for v in args.blur_lengths)]
        if ARMS[arm]:
            cmd += ["--ablate", *ARMS[arm]]
        print("running:", " ".join(cmd), flush=True)
        (out / arm).mkdir(parents=True, exist_ok=True)
        procs[arm] = subprocess.Popen(cmd, stdout=open(out / arm / "stdout.log", "a"), stderr=subprocess.STDOUT)
    for arm, proc in procs.items():
        if proc.wait() != 0:
            raise SystemExit(f"arm {arm} failed; see {out / arm / 'stdout.log'}")

    extra = []
    for arm in args.arms:
        onnx_path = out / arm / "model.onnx"
        subprocess.run([sys.executable, str(HERE / "export.py"), "--ckpt", str(out / arm / "last.pt"),
                        "--out", str(onnx_path)], check=True, stdout=subprocess.DEVNULL)
        extra += ["--extra-onnx", f"{arm}={onnx_path}"]
    result_json = out / "evaluate.json"
    subprocess.run([sys.executable, str(HERE / "evaluate.py"), "--onnx", "none", *extra,
                    "--limit", str(args.limit), "--json", str(result_json)], check=True)
    result = json.loads(result_json.read_text())
    table = {arm: result["summary"][arm] for arm in args.arms}
    table["blurry"] = result["summary"]["blurry"]
    print(f"\nablation: {args.variant}, {args.steps} steps x batch {args.batch} x {args.crop}^2, blur paths "
          f"{args.blur_lengths[0]:g}-{args.blur_lengths[1]:g} px, first {args.limit} dev-benchmark pairs")
    for name, v in table.items():
        print(f"  {name:16s} PSNR {v['psnr']:.2f}  SSIM {v['ssim']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"settings": vars(args), "results": table}, indent=1))


if __name__ == "__main__":
    main()
