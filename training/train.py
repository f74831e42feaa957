"""Train SGENet on synthetic camera-shake blur, or SGENet-σ as the learned prior of the deconvolution.

    python training/train.py --data ../shared/datasets/train --variant sgenet-s \
        --minutes 100 --out training/runs/sgenet-s            # start (or continue with --resume)

    python training/train.py --task prior --variant sgenet-s-sigma \
        --data ../shared/datasets/train/CBSD432 ../shared/datasets/train/CUrban100 \
        --init training/checkpoints/sgenet-s.weights.pt --minutes 360 \
        --val ../shared/datasets/val/Kodak24 --out training/runs/sgenet-s-sigma   # (--resume to continue)

On a GPU (``--device`` auto-detects one), ``--workers 14 --batch 32`` keeps it fed (samples are numpy
on CPU cores: about 290 crops/s on an H200 against 8 on 2 cores), and ``--weights-copy FILE``
writes the weights-only file at every checkpoint, what a borrowed machine brings back.

``--task prior`` samples are made on the fly by sgenet/prior_data.py: one plug-and-play HQS data
step (sgenet/data_step.py, core's twin) on a blurred photo, or pure denoising; the network is
told the noise level σ_k. ``--val`` logs a learning curve (curve.jsonl) every ``--val-minutes``.

Time-budgeted: the cosine learning-rate schedule runs over ``--minutes`` of *training* time, which is
accumulated across resumed runs, so a run killed at any point continues where it stopped.
Checkpoints (model, EMA, optimiser, RNG, elapsed time) go to OUT/last.pt every ``--ckpt-minutes``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sgenet.blur import DEFAULT_INERTIA, inertia_range_problem  # noqa: E402
from sgenet.configs import build_model, get_config  # noqa: E402
from sgenet.data import BankPairSampler, BlurPairSampler  # noqa: E402
from sgenet.flops import gflop_per_megapixel, param_count  # noqa: E402
from sgenet.losses import context_consistency_loss, sgenet_loss  # noqa: E402
from sgenet.prior_data import PriorSampler  # noqa: E402
from sgenet.prior_val import PriorValidation  # noqa: E402
from save_weights import save, weights_only  # noqa: E402


CONTEXT_CUTS = (8, 16, 24, 32)  # strips cut for the --context term: on the model's 8-px grid


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", choices=("blur", "prior"), default="blur",
                   help="blur: blurry photo -> sharp (v0.4.0); prior: HQS data-step output + σ -> sharp (SGENet-σ)")
    p.add_argument("--data", nargs="+", help="folder(s) of sharp training photos (blur synthesised on the fly)")
    p.add_argument("--val", help="--task prior: a folder of sharp photos for the learning curve (Kodak24)")
    p.add_argument("--val-minutes", type=float, default=15, help="minutes of training between curve points")
    p.add_argument("--bank", help="a restoration bank (make_restoration_bank.py): train on core's "
                   "deconvolved photos -> sharp, the kernel-guided network's task (instead of --data)")
    p.add_argument("--variant", default="sgenet-s")
    p.add_argument("--ablate", nargs="*", default=[], help="sigma cem csam recursion dw_drb")
    p.add_argument("--out", required=True, help="run folder (checkpoints, log)")
    p.add_argument("--minutes", type=float, default=60, help="total training-time budget")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--blur-lengths", type=float, nargs=2, default=(5, 35), metavar=("MIN", "MAX"),
                   help="camera path length range in px (curriculum: start short, widen later)")
    p.add_argument("--inertia", type=float, nargs=2, default=DEFAULT_INERTIA, metavar=("MIN", "MAX"),
                   help="camera inertia range: near 1 the path sweeps straight and the kernel spreads wide "
                        "(recorded shakes spread 2.5-9.4 px RMS; the default curls 30 px paths to ~3 px)")
    p.add_argument("--p-jpeg", type=float, default=0.2, help="share of blurry crops JPEG-compressed")
    p.add_argument("--p-nonuniform", type=float, default=0.2, help="share blended from two kernels")
    p.add_argument("--p-perturb", type=float, default=0.5,
                   help="--task prior: share of blurred crops whose data step is given a perturbed kernel "
                        "(a blind estimate's errors, perturb.py) instead of the true one")
    p.add_argument("--p-one-pass", type=float, default=0.0,
                   help="--task prior: share of blurred crops drawn at the default's operating point "
                        "(one-pass PnP: z = the photo, σ_k its geometric mean with 49/255, λ 0.12) "
                        "instead of any iteration of the loop")
    p.add_argument("--p-sharp", type=float, default=0.0,
                   help="share of crops left unblurred (noise and JPEG only), so sharp photos pass through")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--min-lr", type=float, default=1e-5)
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where the network trains (auto: a CUDA GPU when there is one); samples are "
                        "always made on CPU cores")
    p.add_argument("--workers", type=int, default=0,
                   help="processes making samples (0: the training process makes them between steps, "
                        "as on 2 cores; a GPU needs several to be kept busy)")
    p.add_argument("--weights-copy", help="also write a weights-only file (save_weights.py's) at every "
                                          "checkpoint: what a run on a borrowed machine brings back")
    p.add_argument("--ckpt-minutes", type=float, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--init", help="start from a weights-only file (save_weights.py output): model, EMA, "
                                  "step and elapsed time are restored, the optimiser starts fresh and the "
                                  "warm-up + cosine schedule restarts over the rest of --minutes; the data "
                                  "stream is seeded by (--seed, step) so it does not replay the first run's")
    p.add_argument("--no-channels-last", dest="channels_last", action="store_false",
                   help="keep NCHW tensors (channels-last is ~25%% faster on CPU oneDNN convs)")
    p.add_argument("--context", type=int, default=0, metavar="PX",
                   help="bound the receptive field: penalise outputs that change when input farther than PX "
                        "px is cut away (0: off; a multiple of 8)")
    p.add_argument("--context-weight", type=float, default=1.0, help="weight of that consistency term")
    p.add_argument("--context-samples", type=int, default=2,
                   help="crops of each batch that are re-run cut, for the consistency term")
    p.add_argument("--log-every", type=int, default=25)
    args = p.parse_args(argv)
    if (args.data is None) == (args.bank is None):
        p.error("give exactly one of --data DIR (sharp photos, blur made on the fly) or --bank DIR (a restoration bank)")
    if args.task == "prior" and args.data is None:
        p.error("--task prior takes --data (sharp photos)")
    if args.task != "prior" and get_config(args.variant, args.ablate).guide_input:
        p.error(f"--variant {args.variant} takes the blurry photo as a guide: train it with --task prior")
    if args.data is not None and args.task == "blur" and len(args.data) != 1:
        p.error("--task blur takes one --data folder")
    if args.context and (args.context % 8 or args.context + max(CONTEXT_CUTS) >= args.crop):
        p.error(f"--context must be a multiple of 8 and leave room in the crop (context + "
                f"{max(CONTEXT_CUTS)} < --crop {args.crop}); got {args.context}")
    if problem := inertia_range_problem(args.inertia):
        p.error(f"--inertia {problem}")
    return args


def lr_at(args, elapsed_s: float, step: int, origin_s: float = 0.0, origin_step: int = 0) -> float:
    """Linear warm-up, then cosine decay over the training time from ``origin`` (the start, or the
    --init point of a continued run) to the end of the budget."""
    warm = min(1.0, (step - origin_step + 1) / max(args.warmup_steps, 1))
    t = min(1.0, (elapsed_s - origin_s) / max(args.minutes * 60 - origin_s, 1e-6))
    return warm * (args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * t)))


def load_widening(model: torch.nn.Module, state: dict, drop_absent: bool = False) -> list[str]:
    """Loads ``state`` into ``model``; a conv whose input grew (the σ channel of SGENet-σ) keeps the
    old weights for the old channels and starts the new ones at zero, so it computes what the old
    network did. With ``drop_absent`` (an ablated model: no CEM, no CSAM), tensors of modules the
    model does not have are left out instead of refused. Returns the names of the widened tensors."""
    own = model.state_dict()
    if drop_absent:
        state = {name: value for name, value in state.items() if name in own}
    widened = []
    for name, value in state.items():
        target = own.get(name)
        if target is not None and target.shape != value.shape and target.dim() == 4 \
                and target.shape[0] == value.shape[0] and target.shape[2:] == value.shape[2:] \
                and target.shape[1] > value.shape[1]:
            grown = torch.zeros_like(target)
            grown[:, :value.shape[1]] = value
            state = {**state, name: grown}
            widened.append(name)
    state = {**state, **deepened_blocks(own, state)}
    model.load_state_dict(state)
    return widened


def deepened_blocks(own: dict, state: dict) -> dict:
    """The tensors of DRBs the model has and ``state`` lacks (a deeper variant, sgenet-m-sigma from
    sgenet-s-sigma): each new block keeps its own random branches and gets its 1x1 fuse at zero,
    so the block computes x0 + 0, the identity, and the deeper model what the shallower one did;
    the fuse then learns first (its gradient is the branches' activations, which are not zero).
    Any other missing tensor is left for load_state_dict to refuse."""
    missing = [name for name in own if name not in state]
    blocks = {name.rsplit(".", 2)[0] for name in missing if ".enc." in name or ".dec." in name}
    blocks = {b for b in blocks if not any(k.startswith(b + ".") for k in state)}
    out = {}
    for name in missing:
        block = name.rsplit(".", 2)[0]
        if block not in blocks:
            continue
        out[name] = torch.zeros_like(own[name]) if ".fuse." in name else own[name].clone()
    return out


def last_curve_step(out: Path) -> int | None:
    """The step of the last point in ``out``/curve.jsonl, or None without one."""
    curve = out / "curve.jsonl"
    lines = curve.read_text().splitlines() if curve.exists() else []
    return json.loads(lines[-1])["step"] if lines else None


def draw(sampler, task: str, n: int) -> tuple:
    """One batch as (input, σ or None, sharp, guide or None), whichever the task."""
    if task == "prior":
        return sampler.batch(n)
    blurry, sharp = sampler.batch(n)
    return blurry, None, sharp, None


class SampleStream(torch.utils.data.IterableDataset):
    """Batches made in worker processes, for a GPU that one CPU process cannot keep busy. Worker i
    draws from a stream seeded by (seed, step, i): a continued run neither replays the run it
    continues nor gives two workers the same crops."""

    def __init__(self, sampler, task: str, batch: int, seed: int, step: int):
        self.sampler, self.task, self.batch, self.seed, self.step = sampler, task, batch, seed, step

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        self.sampler.rng = np.random.default_rng([self.seed, self.step, info.id if info else 0])
        while True:
            yield draw(self.sampler, self.task, self.batch)


def batches(args, sampler, step: int):
    """Batches made here between steps (2 CPU cores) or by --workers processes (a GPU)."""
    if not args.workers:
        while True:
            yield draw(sampler, args.task, args.batch)
    loader = torch.utils.data.DataLoader(SampleStream(sampler, args.task, args.batch, args.seed, step),
                                         batch_size=None, num_workers=args.workers, prefetch_factor=4,
                                         pin_memory=args.device != "cpu", persistent_workers=True)
    yield from loader


def train(args) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop sizes: pick each conv's fastest algorithm once
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    model = build_model(args.variant, args.ablate)
    ema = build_model(args.variant, args.ablate)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    # On the device before any state is loaded: a resumed optimiser's moments follow its parameters.
    model.to(device)
    ema.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4, betas=(0.9, 0.99))
    if args.bank:
        sampler = BankPairSampler(args.bank, args.crop, seed=args.seed)
    elif args.task == "prior":
        # --p-jpeg and --p-nonuniform apply (defaults 0.2 and 0.2, as for the blur task); the blur
        # task's --blur-lengths, --inertia and --p-sharp do not (prior_data.py has its own ranges).
        sampler = PriorSampler(args.data, args.crop, seed=args.seed, p_jpeg=args.p_jpeg,
                               p_nonuniform=args.p_nonuniform, p_perturb=args.p_perturb,
                               p_one_pass=args.p_one_pass)
    else:
        sampler = BlurPairSampler(args.data[0], args.crop, seed=args.seed, lengths=tuple(args.blur_lengths),
                                  p_jpeg=args.p_jpeg, p_nonuniform=args.p_nonuniform, p_sharp=args.p_sharp,
                                  inertia_range=tuple(args.inertia))
    step, elapsed = 0, 0.0
    origin = (0.0, 0)  # (elapsed, step) where the current learning-rate schedule began
    ckpt_path = out / "last.pt"
    if args.resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step, elapsed = ck["step"], ck["elapsed"]
        origin = tuple(ck.get("origin", (0.0, 0)))
        sampler.rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        print(f"resumed from {ckpt_path}: step {step}, {elapsed / 60:.1f} min trained", flush=True)
    elif args.init:
        ck = torch.load(args.init, map_location="cpu", weights_only=False)
        # An ablation arm starts from the full model's weights less the modules it lacks.
        widened = load_widening(model, ck["model"], drop_absent=bool(args.ablate))
        load_widening(ema, ck["ema"], drop_absent=bool(args.ablate))
        if widened:
            print(f"new input channels start at zero in: {', '.join(widened)}", flush=True)
        if ck.get("variant", args.variant) != args.variant:
            # Another variant's weights start a new model (SGENet-σ from v0.4.0): its own clock and
            # schedule start at zero.
            step, elapsed = 0, 0.0
            print(f"initialised from {args.init} ({ck.get('variant')}, step {ck['step']}): "
                  f"a new {args.variant} run starts at step 0", flush=True)
        else:
            step, elapsed = ck["step"], ck["elapsed"]
        origin = (elapsed, step)
        # Seeded by (seed, step): a continued run must not replay the crops and kernels that the
        # run it continues drew first (seed alone would give every continuation the same stream).
        sampler.rng = np.random.default_rng([args.seed, step])
        torch.manual_seed(args.seed * 1_000_003 + step)
        print(f"initialised from {args.init}: step {step}, {elapsed / 60:.1f} min trained; "
              f"data stream seeded ({args.seed}, {step})", flush=True)
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
        ema.to(memory_format=torch.channels_last)
    cfg = get_config(args.variant, args.ablate)
    print(f"variant {args.variant} ablate={args.ablate or 'none'} {cfg}\n"
          f"params {param_count(model):,}  {gflop_per_megapixel(model):.1f} GFLOP/MP  "
          f"{len(sampler.images)} training photos  batch {args.batch}x{args.crop}^2  "
          + (f"input: core's deconvolution, bank {args.bank}  " if args.bank else
             f"task prior: HQS data step on blurred photos + denoising, σ input, perturbed kernels "
             f"{args.p_perturb:g}, one-pass share {args.p_one_pass:g}  " if args.task == "prior" else
             f"blur paths {args.blur_lengths[0]:g}-{args.blur_lengths[1]:g} px, "
             f"inertia {args.inertia[0]:g}-{args.inertia[1]:g}  "
             f"jpeg {args.p_jpeg:g} non-uniform {args.p_nonuniform:g} unblurred {args.p_sharp:g}  ") +
          f"context bound {args.context or 'off'}  "
          f"budget {args.minutes} min  threads {torch.get_num_threads()}  device {device}"
          + (f" with {args.workers} sample workers" if args.workers else ""), flush=True)
    log = open(out / "train.log", "a")

    def checkpoint():
        # save() is atomic: a kill mid-write never corrupts the last checkpoint.
        state = {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                 "step": step, "elapsed": elapsed, "rng": sampler.rng.bit_generator.state,
                 "torch_rng": torch.get_rng_state(), "variant": args.variant, "origin": origin,
                 "ablate": list(args.ablate)}
        save(ckpt_path, state)
        if args.weights_copy:
            save(args.weights_copy, weights_only(state))

    validation = PriorValidation(args.val) if args.val and args.task == "prior" else None
    # A curve point now, unless the curve already holds this very step (a run resumed from the
    # checkpoint written right after its last validation would repeat it to the last digit).
    next_val = elapsed if validation else float("inf")
    if validation and last_curve_step(out) == step:
        next_val += args.val_minutes * 60

    def validate():
        point = {"step": step, "train_minutes": round(elapsed / 60, 2), "device": device.type,
                 **validation.run(ema)}
        with open(out / "curve.jsonl", "a") as f:
            f.write(json.dumps(point) + "\n")
        print("curve: " + json.dumps(point), flush=True)

    last_ckpt = time.time()
    window_loss, window_t, window_n, window_cons = 0.0, 0.0, 0, 0.0
    stream = batches(args, sampler, step)
    model.train()
    while elapsed < args.minutes * 60 and (not args.max_steps or step < args.max_steps):
        if elapsed >= next_val:
            # Before t0: validation is not training time (it must not eat the budget or move the schedule).
            validate()
            next_val = elapsed + args.val_minutes * 60
        t0 = time.time()
        lr = lr_at(args, elapsed, step, *origin)
        for g in opt.param_groups:
            g["lr"] = lr
        blurry, sigma, sharp, guide = next(stream)
        blurry, sharp = blurry.to(device, non_blocking=True), sharp.to(device, non_blocking=True)
        sigma = None if sigma is None else sigma.to(device, non_blocking=True)
        # Only a guided variant takes the photo; for the others the batch's guide is dropped here.
        guide = guide.to(device, non_blocking=True) if model.cfg.guide_input else None
        if args.channels_last:
            blurry = blurry.contiguous(memory_format=torch.channels_last)
            guide = None if guide is None else guide.contiguous(memory_format=torch.channels_last)
        outputs = model(blurry, sigma, return_all=True, guide=guide) if sigma is not None \
            else model(blurry, return_all=True)
        loss = sgenet_loss(outputs, sharp)
        if args.context:
            k = min(args.context_samples, args.batch)
            cut = CONTEXT_CUTS[int(torch.randint(len(CONTEXT_CUTS), ()))]
            corner = (bool(torch.randint(0, 2, ())), bool(torch.randint(0, 2, ())))
            consistency = context_consistency_loss(model, blurry[:k], outputs[1][0][:k], args.context,
                                                   cut, corner, None if sigma is None else sigma[:k],
                                                   None if guide is None else guide[:k])
            loss = loss + args.context_weight * consistency
            window_cons += consistency.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        with torch.no_grad():
            decay = min(args.ema, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.lerp_(pm, 1 - decay)
        if device.type == "cuda" and (step + 1) % args.log_every == 0:
            torch.cuda.synchronize()  # so the logged crops/s are the GPU's, not its queue's
        dt = time.time() - t0
        elapsed += dt
        step += 1
        window_loss += loss.item()
        window_t += dt
        window_n += 1
        if step % args.log_every == 0:
            frac = min(1.0, elapsed / (args.minutes * 60))
            bar = "#" * int(frac * 30) + "-" * (30 - int(frac * 30))
            line = (f"[{bar}] step {step} {elapsed / 60:6.1f}/{args.minutes:.0f} min  "
                    f"loss {window_loss / window_n:.4f}  "
                    + (f"context {window_cons / window_n * 255:.2f}/255  " if args.context else "")
                    + f"lr {lr:.2e}  {window_n * args.batch / window_t:.1f} crops/s")
            print(line, flush=True)
            log.write(line + "\n")
            log.flush()
            window_loss, window_t, window_n, window_cons = 0.0, 0.0, 0, 0.0
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            checkpoint()
            last_ckpt = time.time()
    checkpoint()
    if validation:
        validate()
    print(f"done: step {step}, {elapsed / 60:.1f} min; checkpoint {ckpt_path}", flush=True)
    return {"model": model, "ema": ema, "step": step, "elapsed": elapsed}


if __name__ == "__main__":
    train(parse_args())
