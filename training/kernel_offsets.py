"""Where should an estimated kernel be centred? Scores centring rules by the offset they leave.

    python training/kernel_offsets.py --restoration /tmp/sgenet-restoration6   # dev estimates
    python training/kernel_offsets.py --bank /tmp/bank48                       # training bank

A blind estimate knows the kernel only up to a translation; the rule that centres it decides where
the restored photo lands. For each estimated kernel (read from an ``evaluate.py --restoration`` work
folder, against the Levin kernels, or from a ``make_restoration_bank.py`` folder, against its true
project kernels; non-uniform and sharp items skipped) this centres the estimate by each rule and
finds the integer shift that best aligns it with the true kernel (normalised cross-correlation
within +-12 taps). Printed per rule: share of estimates left exactly aligned and within 1 tap, how
many are off by more than 3 and 5 taps, and the mean |dy| + |dx|. Only the shape of an estimate
matters here, so a folder made with any ``centre`` setting gives the same table.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

DEFAULT_KERNELS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "kernels" / "levin09.json"


def _place(a: np.ndarray, side: int) -> np.ndarray:
    out = np.zeros((side, side))
    h, w = a.shape
    oy, ox = (side - h) // 2, (side - w) // 2
    out[oy:oy + h, ox:ox + w] = a
    return out


def best_shift(true: np.ndarray, est: np.ndarray, radius: int = 12) -> tuple[int, int]:
    side = max(true.shape + est.shape) + 2 * radius + 2
    pt, pe = _place(true, side), _place(est, side)
    best, at = -1.0, (0, 0)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            s = float((pt * np.roll(pe, (dy, dx), (0, 1))).sum())
            if s > best:
                best, at = s, (dy, dx)
    return at


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    yy, xx = np.mgrid[:a.shape[0], :a.shape[1]]
    return float((a * yy).sum() / a.sum()), float((a * xx).sum() / a.sum())


def trimmed_support_midpoint(a: np.ndarray, trim: float) -> tuple[float, float]:
    """Per axis, halfway between where the cumulative mass reaches trim and 1 - trim (core's supportMidpoint)."""
    def mid(marginal: np.ndarray) -> float:
        c = np.cumsum(marginal) / marginal.sum()
        nz = np.nonzero(marginal > 0)[0]
        lo = max(int(np.searchsorted(c, trim)), int(nz[0]))
        hi = min(int(np.searchsorted(c, (1 - trim) * (1 - 1e-12))), int(nz[-1]))
        return (lo + hi) / 2
    return mid(a.sum(1)), mid(a.sum(0))


RULES = {
    "centre of mass": centre_of_mass,
    "bounding box": lambda a: trimmed_support_midpoint(a, 0.0),
    "support, 2% trimmed": lambda a: trimmed_support_midpoint(a, 0.02),
    "support, 5% trimmed (core's default)": lambda a: trimmed_support_midpoint(a, 0.05),
    "support, 10% trimmed": lambda a: trimmed_support_midpoint(a, 0.10),
}


def centred(a: np.ndarray, point: tuple[float, float]) -> np.ndarray:
    h, w = a.shape
    dy = int(np.floor((h - 1) / 2 - point[0] + 0.5))
    dx = int(np.floor((w - 1) / 2 - point[1] + 0.5))
    side = max(h, w) + 2 * max(abs(dy), abs(dx)) + 2
    return np.roll(_place(a, side), (dy, dx), (0, 1))


def _grid(k: dict) -> np.ndarray:
    if "size" in k:
        size = k["size"]
        h, w = (size if isinstance(size, list) else (size, size))
    else:
        h, w = k["height"], k["width"]
    return np.asarray(k["data"], dtype=np.float64).reshape(h, w)


def dev_pairs(work: Path, kernels: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    truth = [_grid(k) for k in json.loads(kernels.read_text())["kernels"]]
    pairs = []
    for f in sorted((work / "out").glob("*_k*.json")):
        index = int(f.stem.rsplit("_k", 1)[1]) - 1
        pairs.append((truth[index], _grid(json.loads(f.read_text())["estimated"])))
    return pairs


def bank_pairs(bank: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    pairs = []
    for line in (bank / "items.jsonl").read_text().splitlines():
        item = json.loads(line)
        done = bank / "deconvolved" / f"{item['id']}.done.json"
        if not done.exists() or item.get("nonuniform") or item["kernel"]["width"] == 1:
            continue
        pairs.append((_grid(item["kernel"]), _grid(json.loads(done.read_text())["estimated"])))
    return pairs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--restoration", type=Path, help="an evaluate.py --restoration work folder")
    src.add_argument("--bank", type=Path, help="a make_restoration_bank.py output folder")
    p.add_argument("--kernels", type=Path, default=DEFAULT_KERNELS, help="true kernels of the dev pairs")
    args = p.parse_args()
    pairs = dev_pairs(args.restoration, args.kernels) if args.restoration else bank_pairs(args.bank)
    pairs = [(t, e) for t, e in pairs if e.size > 1]  # identity fallbacks have no placement
    print(f"{len(pairs)} estimates")
    for name, rule in RULES.items():
        offsets = np.array([best_shift(t, centred(e, rule(e))) for t, e in pairs])
        worst = np.abs(offsets).max(1)
        print(f"{name:38s} exact {np.mean(worst == 0):.2f}  within 1 {np.mean(worst <= 1):.2f}  "
              f"> 3: {int((worst > 3).sum()):3d}  > 5: {int((worst > 5).sum()):3d}  "
              f"mean |dy|+|dx| {np.abs(offsets).sum(1).mean():.2f}")


if __name__ == "__main__":
    main()
