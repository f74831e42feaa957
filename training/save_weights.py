"""Strip a training checkpoint down to what the next session needs to continue: weights (model and
EMA), step and elapsed time, no optimiser state. This is the file that gets committed.

    python training/save_weights.py training/runs/sgenet-s/last.pt training/checkpoints/sgenet-s.weights.pt
    python training/train.py ... --init training/checkpoints/sgenet-s.weights.pt   # next session
"""
import sys
from pathlib import Path

import torch


WEIGHT_KEYS = ("model", "ema", "step", "elapsed", "variant", "ablate")


def weights_only(checkpoint: dict) -> dict:
    """A training checkpoint's weights (on the CPU), step, clock and variant: no optimiser state."""
    on_cpu = lambda v: {k: t.cpu() for k, t in v.items()} if isinstance(v, dict) else v  # noqa: E731
    return {k: on_cpu(checkpoint[k]) for k in WEIGHT_KEYS}


def save(path: str | Path, state: dict) -> None:
    """torch.save through a temporary file: a run killed mid-write leaves the previous file whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def main(src: str, dst: str) -> None:
    ck = torch.load(src, map_location="cpu", weights_only=False)
    save(dst, weights_only(ck))
    print(f"{src} -> {dst}: step {ck['step']}, {ck['elapsed'] / 60:.1f} min, variant {ck['variant']}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
