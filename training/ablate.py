"""Ablation at equal budget: the same variant trained with and without CEM and CSAM for the same
number of steps (same batch, crop, seed, learning rate), then scored on a prefix of the dev
benchmark and/or on the blur-length sweep (evaluate_lengths.py). Each arm runs in its own process
with one thread, so they can run side by side.

    python training/ablate.py --data ../shared/datasets/train --steps 600 --limit 24 \
        --out training/runs/ablation --json ablation.json
    python training/ablate.py ... --score lengths --lengths 4 8 12 --images 8

Short runs barely move on the heavy Levin kernels; the length sweep at 4-12 px is where a model
leaves the identity first, so it separates arms at budgets the dev benchmark cannot.

SGENet-σ, the learned prior (``--task prior``): every arm starts from the same weights (``--init``,
v0.4.0; an arm keeps what its architecture has), trains on the same on-the-fly HQS data stream for
the same number of steps, and is scored by the learning curve's validation (prior_val.py: the
plug-and-play loop with N = 1 and N = 4 given the true kernel, N = 1 given a perturbed kernel, and
denoising at σ 25/255), so "loop against one pass" is read off every arm:

    python training/ablate.py --task prior --variant sgenet-s-sigma \
        --data ../shared/datasets/train/CBSD432 ../shared/datasets/train/CUrban100 \
        --init training/checkpoints/sgenet-s.weights.pt --val ../shared/datasets/val/Kodak24 \
        --steps 600 --lr 1e-3 --context 48 --context-weight 2 \
        --arms full no_sigma no_cem no_csam --out training/runs/ablation-sigma --json ablation-sigma.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARMS = {"full": [], "no_sigma": ["sigma"], "no_cem": ["cem"], "no_csam": ["csam"],
        "no_cem_no_csam": ["cem", "csam"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", choices=("blur", "prior"), default="blur",
                   help="blur: v0.4.0's task, scored on --score; prior: SGENet-σ's, scored on the curve's validation")
    p.add_argument("--data", required=True, nargs="+")
    p.add_argument("--variant", default="sgenet-s")
    p.add_argument("--init", help="weights every arm starts from (save_weights.py output)")
    p.add_argument("--val", help="--task prior: sharp photos for the validation (Kodak24)")
    p.add_argument("--context", type=int, default=0, help="train.py --context (receptive-field bound)")
    p.add_argument("--context-weight", type=float, default=1.0)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--blur-lengths", type=float, nargs=2, default=(3, 20), metavar=("MIN", "MAX"))
    p.add_argument("--limit", type=int, default=24, help="benchmark pairs to score (prefix)")
    p.add_argument("--arms", nargs="*", default=list(ARMS), choices=list(ARMS))
    p.add_argument("--score", nargs="+", default=["benchmark"], choices=["benchmark", "lengths"],
                   help="dev-benchmark prefix (--limit pairs) and/or the length sweep")
    p.add_argument("--val-data", help="validation photos for the length sweep (default: Kodak24)")
    p.add_argument("--lengths", type=float, nargs="+", default=(4, 8, 12), help="sweep lengths, px")
    p.add_argument("--images", type=int, default=8, help="photos in the length sweep")
    p.add_argument("--out", required=True)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    if args.task == "prior" and not args.val:
        p.error("--task prior is scored on --val (a folder of sharp photos)")
    if args.task == "blur" and len(args.data) != 1:
        p.error("--task blur takes one --data folder")
    if "no_sigma" in args.arms and args.task != "prior":
        p.error("the no_sigma arm belongs to --task prior (only SGENet-σ has the σ input)")

    out = Path(args.out)
    procs = {}
    for arm in args.arms:
        cmd = [sys.executable, str(HERE / "train.py"), "--task", args.task, "--data", *args.data,
               "--variant", args.variant,
               "--out", str(out / arm), "--minutes", "100000", "--max-steps", str(args.steps),
               "--batch", str(args.batch), "--crop", str(args.crop), "--lr", str(args.lr),
               "--threads", "1", "--resume", "--log-every", "50",
               "--blur-lengths", *(str(v) for v in args.blur_lengths)]
        if args.init:
            cmd += ["--init", args.init]
        if args.context:
            cmd += ["--context", str(args.context), "--context-weight", str(args.context_weight)]
        if args.task == "prior":
            # Validated at step 0 and at the end only: the budget is steps, not minutes.
            cmd += ["--val", args.val, "--val-minutes", "1e9"]
        if ARMS[arm]:
            cmd += ["--ablate", *ARMS[arm]]
        print("running:", " ".join(cmd), flush=True)
        (out / arm).mkdir(parents=True, exist_ok=True)
        procs[arm] = subprocess.Popen(cmd, stdout=open(out / arm / "stdout.log", "a"), stderr=subprocess.STDOUT)
    for arm, proc in procs.items():
        if proc.wait() != 0:
            raise SystemExit(f"arm {arm} failed; see {out / arm / 'stdout.log'}")

    if args.task == "prior":
        report = {"settings": vars(args), "prior": score_prior(args, out)}
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1))
        return report

    onnx_paths = {}
    for arm in args.arms:
        onnx_paths[arm] = out / arm / "model.onnx"
        subprocess.run([sys.executable, str(HERE / "export.py"), "--ckpt", str(out / arm / "last.pt"),
                        "--out", str(onnx_paths[arm]), "--receptive-field", "64"],  # scored untiled
                       check=True, stdout=subprocess.DEVNULL)
    report = {"settings": vars(args)}
    if "benchmark" in args.score:
        report["results"] = score_benchmark(args, out, onnx_paths)
    if "lengths" in args.score:
        report["lengths"] = score_lengths(args, onnx_paths)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return report


def score_benchmark(args, out: Path, onnx_paths: dict) -> dict:
    extra = [f"--extra-onnx={arm}={path}" for arm, path in onnx_paths.items()]
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
    return table


def score_prior(args, out: Path) -> dict:
    """Each arm's last validation point (train.py writes one at the end of the run)."""
    table = {}
    for arm in args.arms:
        points = [json.loads(line) for line in (out / arm / "curve.jsonl").read_text().splitlines() if line]
        table[arm] = {"start": points[0], "end": points[-1]}
    print(f"\nablation: {args.variant}, task prior, {args.steps} steps x batch {args.batch} x {args.crop}^2 "
          f"from {args.init or 'scratch'}; validation PSNR (prior_val.py), start -> end")
    keys = [k for k in table[args.arms[0]]["end"] if k not in ("step", "train_minutes", "device", "blurry")]
    for arm, row in table.items():
        print(f"  {arm:16s} " + "  ".join(f"{k} {row['start'][k]:.2f}->{row['end'][k]:.2f}" for k in keys))
    return table


def score_lengths(args, onnx_paths: dict) -> dict:
    import evaluate_lengths

    table = {}
    for arm, path in onnx_paths.items():
        argv = ["--onnx", str(path), "--lengths", *(str(v) for v in args.lengths),
                "--images", str(args.images), "--threads", "1"]
        if args.val_data:
            argv += ["--data", args.val_data]
        table[arm] = evaluate_lengths.sweep(evaluate_lengths.parse_args(argv))["rows"]
    print(f"\nablation: {args.variant}, {args.steps} steps; mean PSNR gain over the blurry input, "
          f"{args.images} photos, project-made kernels")
    for arm, rows in table.items():
        print(f"  {arm:16s} " + "  ".join(f"{r['length']:g} px {r['gain']:+.2f} dB" for r in rows))
    return table


if __name__ == "__main__":
    main()
