"""Dev benchmark: Kodak24 x the 8 Levin09 kernels (192 pairs), sigma 0.01, seed 0, 8-bit.

    python training/evaluate.py --json bench.json --markdown bench.md            # full table
    python training/evaluate.py --limit 8 --threads 1                           # quick look
    python training/evaluate.py --onnx packages/core/models/sgenet-s.onnx \\
        --ckpt training/runs/sgenet-s/last.pt --extra-onnx ablate-cem=/tmp/cem.onnx

    python training/evaluate.py --restoration /tmp/sgenet-restoration --json r.json   # + the kernel pipeline

Reports the mean PSNR / SSIM (RGB, full image, sgenet.metrics) over all pairs and per kernel of:
the blurry input; sharp's default ``sharpen()`` (mild 3x3 sharpen on the 8-bit image); a strong
unsharp mask (Gaussian sigma 2, amount 1.5); non-blind Wiener deconvolution with the TRUE kernel
(NSR picked from a fixed grid on the first 4 pairs: an upper reference no blind method gets for
free); and our model(s): an ONNX file through ONNX Runtime (CPU) and optionally a PyTorch
checkpoint. Every output is clipped and quantised to 8 bits before the metrics, like a saved PNG.

With ``--restoration DIR`` it also scores the product's restoration pipeline, run by the Node
package itself (``tools/bench/dist/restore-pairs.js``: there is one kernel estimator and one
deconvolution, in TypeScript; this script only measures): Wiener and our deconvolution with the
true and with the estimated kernel, ``deblur()`` with ``kernel: 'auto'``, and the deconvolution
followed by the network (the network alone, today's default, is the ``model`` row). DIR (outside the repository) receives the blurry pairs and the
outputs and makes the run resumable. Every method then gets shift-aligned PSNR too (best integer
shift within 5 px, interior cropped by 5 px), and the estimated kernels their error ratio
(aligned SSE with the estimated kernel over that with the true one, same deconvolution).

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
                              count_pairs, inside_repo, iter_pairs, load_kernels, to_float, to_uint8)
from sgenet.metrics import psnr, psnr_aligned, shifted_sse, ssim  # noqa: E402

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
    p.add_argument("--restoration", metavar="DIR",
                   help="also run and score the Node restoration pipeline; DIR (outside the repo) holds its work")
    p.add_argument("--node-shards", type=int, default=2, help="parallel Node processes for --restoration")
    p.add_argument("--restoration-model", metavar="ONNX",
                   help="the model deblur() loads in the restoration run (default: the shipped one)")
    p.add_argument("--restoration-methods", metavar="A,B",
                   help="score only these restoration methods (default: all that apply to the model)")
    p.add_argument("--estimate-options", metavar="JSON",
                   help="estimateKernel() options of the *_est methods, e.g. '{\"maxSize\": 101}' (default: none)")
    p.add_argument("--wrong-kernel-seed", type=int, default=2026,
                   help="seed of the recorded perturbation of each pair's kernel (sgenet/perturb.py)")
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


# ----------------------------------------------------------------------------------- restoration

RESTORE_SCRIPT = REPO_ROOT / "tools" / "bench" / "dist" / "restore-pairs.js"
RESTORATION_LABELS = {
    "wiener_true": "Wiener deconvolution (@sgenet/core, wiener mode), TRUE kernel",
    "ours_true": "our deconvolution (hyper-Laplacian, @sgenet/core), TRUE kernel (non-blind)",
    "wiener_est": "Wiener deconvolution, ESTIMATED kernel",
    "ours_est": "our deconvolution, ESTIMATED kernel (blind: stages 1+2)",
    "ours_est_network": "our deconvolution, ESTIMATED kernel, then the v0.4.0 network",
    "pipeline": "deblur() with kernel 'auto' (the default pipeline of the model run)",
}
# With a noise-conditioned model (SGENet-σ, --restoration-model): the learned prior given the true
# kernel and a recorded perturbation of it (--wrong-kernel-seed), against the hyper-Laplacian.
PRIOR_LABELS = {
    "prior_true": "SGENet-σ as the learned prior (one-pass plug-and-play HQS), TRUE kernel",
    "prior_hl_true": "hyper-Laplacian deconvolution then SGENet-σ, TRUE kernel",
    "ours_wrong": "our deconvolution (hyper-Laplacian), PERTURBED true kernel",
    "prior_wrong": "SGENet-σ as the learned prior, PERTURBED true kernel",
}


def write_wrong_kernels(path: Path, kernels_path: Path, n_pairs: int, n_kernels: int, seed: int) -> list:
    """One perturbed kernel per pair index (sgenet/perturb.py, its own seeded generator per pair,
    so a pair's kernel does not depend on --limit): written for restore-pairs, kinds returned."""
    from sgenet.perturb import perturb
    ks = load_kernels(kernels_path)
    out, kinds = [], []
    for i in range(n_pairs):
        wrong, kind = perturb(ks[i % n_kernels], np.random.default_rng([seed, i]))
        out.append({"size": list(wrong.shape), "data": [float(v) for v in wrong.ravel()]})
        kinds.append(kind)
    path.write_text(json.dumps({"seed": seed, "kinds": kinds, "kernels": out}))
    return kinds


def run_restoration(work: Path, data: Path, kernels: Path, n: int, shards: int, methods: list,
                    model: str | None = None, wrong: Path | None = None, estimate: str | None = None) -> dict:
    """Writes the blurry pairs into work/pairs, runs the Node restoration over them (resumable) and
    returns {stem: record} with the records the Node script wrote."""
    import subprocess
    from PIL import Image
    if inside_repo(work):
        raise SystemExit(f"error: --restoration {work} is inside the repository; benchmark images are derived "
                         "from third-party data and must stay outside it")
    if not RESTORE_SCRIPT.exists():
        raise SystemExit(f"error: {RESTORE_SCRIPT} not built; run `npm run build` first")
    pairs_dir, out_dir = work / "pairs", work / "out"
    pairs_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for pair in iter_pairs(data, kernels, limit=n):
        name = f"{Path(pair.image_name).stem}_k{pair.kernel_index + 1}.png"
        if not (pairs_dir / name).exists():
            Image.fromarray(pair.blurry).save(pairs_dir / name)
        entries.append({"index": pair.index, "image": pair.image_name, "kernel": pair.kernel_index, "blurry": name})
    (pairs_dir / "manifest.json").write_text(json.dumps({"entries": entries}))
    cmd = ["node", str(RESTORE_SCRIPT), "--pairs", str(pairs_dir), "--kernels", str(kernels), "--out", str(out_dir),
           "--methods", ",".join(methods)]
    if model:
        cmd += ["--model", str(Path(model).resolve())]
    if wrong:
        cmd += ["--wrong-kernels", str(wrong)]
    if estimate:
        cmd += ["--estimate", estimate]
    print("restoration: " + " ".join(cmd) + f" --shard i/{shards}", flush=True)
    procs = [subprocess.Popen(cmd + ["--shard", f"{i}/{shards}"]) for i in range(shards)]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f"error: restore-pairs exited with {codes}")
    return {e["blurry"][:-4]: json.loads((out_dir / f"{e['blurry'][:-4]}.json").read_text()) for e in entries}


def _load_png(path: Path) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB"))


def kernel_report(records: dict, ratios: list) -> dict:
    """Error-ratio distribution (Levin et al.'s cumulative curve) and the stage timings."""
    r = np.asarray([x for x in ratios if np.isfinite(x)])
    est = [rec["seconds"]["estimate"] for rec in records.values()]
    dec = [rec["seconds"]["ours_est"] for rec in records.values() if "ours_est" in rec["seconds"]]
    mp = [rec["megapixels"] for rec in records.values()]
    return {
        "error_ratio": {"share_le_2": float(np.mean(r <= 2)), "share_le_3": float(np.mean(r <= 3)),
                        "median": float(np.median(r)), "max": float(r.max()),
                        "curve": {f"{t:g}": float(np.mean(r <= t)) for t in (1.5, 2, 2.5, 3, 4, 5)}},
        "identity_fallbacks": int(sum(1 for rec in records.values() if rec["identity"])),
        "seconds": {"estimate_per_image": float(np.median(est)), "estimate_per_mp": float(np.median(np.divide(est, mp))),
                    "deconvolve_per_image": float(np.median(dec)) if dec else None,
                    "deconvolve_per_mp": float(np.median(np.divide(dec, mp[:len(dec)]))) if dec else None,
                    "statistic": "median over pairs, one process per core"},
    }


# ------------------------------------------------------------------------------------- reporting

def _mean(vals):
    return {"psnr": float(np.mean([v[0] for v in vals])), "ssim": float(np.mean([v[1] for v in vals])),
            **({"psnr_aligned": float(np.mean([v[4] for v in vals]))} if vals and len(vals[0]) > 4 else {}),
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
    ]
    aligned = "psnr_aligned" in result["summary"][methods[0]]
    if aligned:
        lines += ["| method | PSNR | PSNR aligned | SSIM |", "|---|---:|---:|---:|"]
    else:
        lines += ["| method | PSNR | SSIM |", "|---|---:|---:|"]
    for m in methods:
        r = result["summary"][m]
        mid = f" {_fmt(r['psnr_aligned'], 2)} |" if aligned else ""
        lines.append(f"| {result['labels'][m]} | {_fmt(r['psnr'], 2)} |{mid} {_fmt(r['ssim'], 4)} |")
    lines += ["", "Per kernel, PSNR / SSIM:", "",
              "| method | " + " | ".join(f"k{i + 1}" for i in range(nk)) + " |",
              "|---|" + "---:|" * nk]
    for m in methods:
        cells = [f"{_fmt(r['psnr'], 2)} / {_fmt(r['ssim'], 3)}" for r in result["per_kernel"][m]]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    if aligned:
        lines += ["", "Per kernel, shift-aligned PSNR:", "",
                  "| method | " + " | ".join(f"k{i + 1}" for i in range(nk)) + " |", "|---|" + "---:|" * nk]
        for m in methods:
            lines.append(f"| {m} | " + " | ".join(_fmt(r.get("psnr_aligned"), 2) for r in result["per_kernel"][m]) + " |")
    k = result.get("kernel")
    if k:
        e, t = k["error_ratio"], k["seconds"]
        lines += ["", f"Estimated kernels: error ratio ≤ 2 on {e['share_le_2']:.1%} of the pairs, ≤ 3 on "
                  f"{e['share_le_3']:.1%} (median {e['median']:.2f}, max {e['max']:.2f}); identity fallbacks: "
                  f"{k['identity_fallbacks']}. Worst pair vs blurry (aligned): {k['worst_vs_blurry']:+.2f} dB "
                  f"({k['worst_pair']}). Estimation {t['estimate_per_image']:.2f} s per image "
                  f"({t['estimate_per_mp']:.2f} s/MP), deconvolution {t['deconvolve_per_image']:.2f} s per image "
                  f"({t['deconvolve_per_mp']:.2f} s/MP), {t['statistic']}."]
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
    records = None
    if args.restoration:
        out_dir = Path(args.restoration) / "out"
        every = {**RESTORATION_LABELS, **(PRIOR_LABELS if args.restoration_model else {})}
        chosen = args.restoration_methods.split(",") if args.restoration_methods else list(every)
        unknown = [m for m in chosen if m not in every]
        if unknown:
            raise SystemExit(f"error: unknown restoration methods {unknown}; known: {list(every)}")
        wrong = None
        if any(m in chosen for m in ("ours_wrong", "prior_wrong")):
            Path(args.restoration).mkdir(parents=True, exist_ok=True)
            wrong = Path(args.restoration) / "wrong-kernels.json"
            kinds = write_wrong_kernels(wrong, kernels, total, n_kernels, args.wrong_kernel_seed)
            print(f"perturbed kernels (seed {args.wrong_kernel_seed}): " + ", ".join(
                f"{k} {kinds[:n].count(k)}" for k in sorted(set(kinds[:n]))), flush=True)
        records = run_restoration(Path(args.restoration), data, kernels, n, args.node_shards, chosen,
                                  args.restoration_model, wrong, args.estimate_options)
        for name, label in every.items():
            if name not in chosen:
                continue
            methods[name] = lambda p, name=name: _load_png(
                out_dir / f"{Path(p.image_name).stem}_k{p.kernel_index + 1}.{name}.png")
            labels[name] = label
    for name, label in labels.items():
        print(f"  {name:15s} {label}", flush=True)

    scores = {m: [] for m in methods}          # (psnr, ssim, kernel_index, image_name[, psnr_aligned])
    ratios, worst = [], (float("inf"), "")
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
            if records is not None:
                s = s + (min(psnr_aligned(sharp, out), PSNR_CAP),)
                if name in ("ours_true", "ours_est"):
                    s = s + (shifted_sse(sharp, out)[0],)
            scores[name].append(s)
            parts.append(f"{name} {s[0]:.2f}" + (f"/{s[4]:.2f}" if len(s) > 4 else ""))
        if records is not None and "ours_est" in scores and "ours_true" in scores:
            ratios.append(scores["ours_est"][-1][5] / max(scores["ours_true"][-1][5], 1e-12))
        if records is not None and "pipeline" in scores:
            gap = scores["pipeline"][-1][4] - scores["blurry"][-1][4]
            if gap < worst[0]:
                worst = (gap, f"{pair.image_name} k{pair.kernel_index + 1}")
        print(f"[{pair.index + 1:3d}/{n}] {pair.image_name} k{pair.kernel_index + 1}  "
              f"{time.time() - t0:6.1f}s  " + "  ".join(parts), flush=True)

    result = {
        **({"kernel": {**kernel_report(records, ratios), "worst_vs_blurry": worst[0], "worst_pair": worst[1],
                       "error_ratios": [round(r, 4) for r in ratios]}} if records is not None and ratios else {}),
        **({"worst_vs_blurry": {"gap": worst[0], "pair": worst[1]}} if records is not None and not ratios
           and worst[1] else {}),
        "pairs": n,
        "summary": {m: {k: v for k, v in _mean(s).items() if k != "n"} for m, s in scores.items()},
        **({"per_pair_aligned": {m: [round(v[4], 4) for v in s] for m, s in scores.items()},
            "per_pair_raw": {m: [round(v[0], 4) for v in s] for m, s in scores.items()}} if records is not None else {}),
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
            "restoration_model": Path(args.restoration_model).name if args.restoration_model else None,
            "wrong_kernel_seed": args.wrong_kernel_seed,
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
