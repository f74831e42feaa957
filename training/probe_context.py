"""How far does the model look? Max |difference| (in 8-bit levels) of a 16 px centre block between
the full 256 px input and a crop keeping only r px of context around it, for several r.

    python training/probe_context.py --ckpt training/checkpoints/sgenet-s.weights.pt

Inputs: uniform noise (seed 0) and two blurred training crops (seed 5). This is the table behind
the model card's receptive-field history; export.py measures the figure the tiler uses.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export import context_changes, load_checkpoint  # noqa: E402
from sgenet.data import BlurPairSampler  # noqa: E402

SIZE, BLOCK = 256, 16


def far_influence(model, x: torch.Tensor, contexts) -> list[float]:
    """Max change of the centre block, in 8-bit levels, for each context r."""
    return [change * 255 for change in context_changes(model, x, contexts, BLOCK)]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", required=True, help="train.py checkpoint or save_weights.py file (EMA weights used)")
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared/datasets/train"))
    p.add_argument("--contexts", type=int, nargs="+", default=[32, 48, 64, 80, 96, 112])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, ck = load_checkpoint(args.ckpt)
    crops = BlurPairSampler(args.data, SIZE, seed=5, lengths=(1, 30)).batch(2)[0]
    inputs = {"noise": torch.rand(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0)),
              "blurred crop A": crops[:1], "blurred crop B": crops[1:]}
    print(f"{args.ckpt}: step {ck['step']}; max |difference| in levels, 16 px centre block, context r px")
    print("| input | " + " | ".join(str(r) for r in args.contexts) + " |")
    print("|---|" + "---:|" * len(args.contexts))
    for name, x in inputs.items():
        print(f"| {name} | " + " | ".join(f"{d:.2f}" for d in far_influence(model, x, args.contexts)) + " |")


if __name__ == "__main__":
    main()
