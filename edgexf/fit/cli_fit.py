"""`edgexf fit`: find low-rank budgets (and, for a ViT, patch size and width) whose measured int8 flash and
SRAM fit a board, fine-tune the best, and compile the winner.

    edgexf fit examples/vit_mnist_wide.py:build --board stm32f746 --data train.npz -o fit/
        [--budget-flash 1MB] [--budget-sram 320KB] [--weights auto] [--margin 0.1] [--epochs 2] [--top 2]
        [--fractions 1,0.75,0.5,0.35,0.25] [--search-arch --arch-epochs 3]

Steps (progress on stderr): measure every candidate (edgexf/fit/measure.py), measure the build's
overhead on one real firmware build, keep those within the budget less the margin, fine-tune the --top
with the most parameters, pick the most accurate; with -o DIR export it (DIR/fit_model.pt2), compile it
int8 for the board (DIR/build/, as `edgexf compile --quantize int8`) and check the ELF against the board
and the budget. Writes DIR/fit.json (every candidate) and DIR/fit.png (accuracy against flash and RAM).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from edgexf.targets.placement import WEIGHT_MODES

FRACTIONS = "1,0.75,0.5,0.35,0.25"  # the default low-rank budgets (fractions of the linear weights)

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20}


def parse_bytes(text: str) -> int:
    """'1MB' -> 1048576, '320KB' -> 327680, '900000' -> 900000 (KB and MB are binary: 1024, 1024^2)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: give bytes, or a number with KB or MB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give fractions like 1,0.5,0.25") from None
    if not values or not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: fractions must lie in (0, 1]")
    return values


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v.strip())


def add_parser(sub) -> None:  # noqa: ANN001 (argparse's subparsers action has no public type)
    f = sub.add_parser(
        "fit", help="fit a PyTorch model to a board: low-rank budgets (and ViT shapes), fine-tuned"
    )
    f.add_argument("model", help="FILE.py:FUNCTION returning (nn.Module, example_input)")
    f.add_argument("--board", required=True, help="board name (see `edgexf boards`) or a .toml file")
    f.add_argument(
        "--data",
        required=True,
        help="labelled .npz (x, y) to calibrate and fine-tune on, or mnist5k / digits",
    )
    f.add_argument(
        "--budget-flash",
        type=parse_bytes,
        help="flash to fit in (bytes, KB, MB; default: the board's, with its external flash where "
        "--weights lets weights go there); each memory must also hold its own share",
    )
    f.add_argument(
        "--weights",
        choices=WEIGHT_MODES,
        default="auto",
        help="where the weights go, as `edgexf compile --weights`: auto (default) = the internal flash while "
        "they fit, the largest moved to the board's external flash otherwise",
    )
    f.add_argument("--budget-sram", type=parse_bytes, help="SRAM to fit in (default: the board's RAM)")
    f.add_argument("--margin", type=float, default=0.1, help="share of the budget kept free (default 0.1)")
    f.add_argument(
        "--fractions",
        type=_fractions,
        default=FRACTIONS,
        help="low-rank budgets, fractions of the linear weights (default 1,0.75,0.5,0.35,0.25)",
    )
    f.add_argument(
        "--epochs", type=int, default=2, help="fine-tuning epochs per chosen candidate (default 2; 0: none)"
    )
    f.add_argument("--lr", type=float, default=5e-4, help="fine-tuning peak learning rate (default 5e-4)")
    f.add_argument(
        "--top",
        type=int,
        default=2,
        help="fitting candidates to fine-tune, most parameters first (default 2)",
    )
    f.add_argument(
        "--search-arch",
        action="store_true",
        help="also try other patch sizes and widths (edgexf.models.vit ViTs; trained from scratch)",
    )
    f.add_argument(
        "--arch-epochs",
        type=int,
        default=3,
        help="epochs to train an architecture candidate from scratch (default 3)",
    )
    f.add_argument(
        "--arch-patches", type=_ints, help="patch sizes to try (default: half to twice the model's)"
    )
    f.add_argument(
        "--arch-widths", type=_ints, help="widths to try (default: 64..the model's, multiples of heads)"
    )
    f.add_argument(
        "--calibration-samples",
        type=int,
        default=256,
        help="first N training samples for int8 calibration (default 256)",
    )
    f.add_argument(
        "--test-vectors", type=int, default=100, help="held-out samples the build checks (default 100)"
    )
    f.add_argument(
        "--exact-seconds",
        type=float,
        default=None,
        help="exact planner time, per candidate and for the final compile (default 1; compile's is 5)",
    )
    f.add_argument("--device", help="where to fine-tune: cpu (default), cuda")
    f.add_argument(
        "-o", "--out", type=Path, required=True,
        help="where the results go: fit.json and fit.png, and the winner exported and compiled",
    )  # fmt: skip
    f.add_argument(
        "--no-build", action="store_true", help="write fit.json and fit.png only: no export and compile"
    )
    f.set_defaults(func=_cmd_fit)


def _cmd_fit(args: argparse.Namespace) -> int:
    from edgexf.fit.command import cmd_fit  # torch and the compiler: only when fit runs

    return cmd_fit(args)
