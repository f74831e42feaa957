"""Strip a training checkpoint down to what the next session needs to continue: weights (model and
EMA), step and elapsed time, no optimiser state. This is the file that gets committed.

    python training/save_weights.py training/runs/sgenet-s/last.pt training/checkpoints/sgenet-s.weights.pt
    python training/train.py ... --init training/checkpoints/sgenet-s.weights.pt   # next session
"""
import sys
from pathlib import Path

import torch


def main(src: str, dst: str) -> None:
    ck = torch.load(src, map_location="cpu", weights_only=False)
    keep = {k: ck[k] for k in ("model", "ema", "step", "elapsed", "variant", "ablate")}
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(dst).with_suffix(".tmp")
    torch.save(keep, tmp)
    tmp.replace(dst)  # atomic: a run killed mid-write leaves the previous file whole
    print(f"{src} -> {dst}: step {ck['step']}, {ck['elapsed'] / 60:.1f} min, variant {ck['variant']}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
