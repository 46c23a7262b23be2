"""The candidates `edgexf fit` tries, their measured sizes against a budget, and their fine-tuning.

A candidate is the user's model at a low-rank budget (a fraction of its linear weights, 1.0 = as given),
or, for an edgexf.models.vit.ViT with --search-arch, a ViT of another patch size P and width D
(MCUFormer's search space: P from the divisors of the image, D a multiple of the heads) at such a
budget. Every candidate is measured (edgexf/fit/measure.py); those that fit, most parameters first,
are fine-tuned (--top K) and the most accurate after fine-tuning wins.

An architecture candidate has no trained weights: it is measured with its initial weights (the int8
sizes depend on shapes only; the ranks the budget allocates may move between layers once trained, the
total cannot exceed the budget), trained from scratch for --arch-epochs, decomposed, fine-tuned, then
measured again.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from torch import nn

from edgexf.compress.finetune import finetune
from edgexf.compress.lowrank import decompose
from edgexf.errors import EdgexfError
from edgexf.fit.measure import Overhead, Sizes, lower, measure_graph
from edgexf.models.training import evaluate
from edgexf.models.vit import ViT, ViTConfig
from edgexf.targets.boards import Board

FRACTIONS = (1.0, 0.75, 0.5, 0.35, 0.25)
ARCH_WIDTHS = (64, 96, 128, 160, 192, 256)  # MCUFormer's embed range, 64-256
ARCH_PATCHES = (2, 4, 7, 8, 14, 16, 32)
ARCH_LR = 2e-3  # from scratch: the ViT examples' rate

Log = Callable[[str], None]


class FitError(EdgexfError):
    """`edgexf fit` was asked something it cannot do (no ViT for --search-arch, an empty search)."""

    exit_code = 2


@dataclass(frozen=True)
class Budget:
    """What a candidate may use: flash and RAM (arena + stack + runtime), less the margin. On a board with
    external flash that may hold weights (`tier`), flash_bytes counts it too (by default the internal
    flash plus the external one) and each memory must also hold its own share (compile's placement)."""

    flash_bytes: int
    ram_bytes: int
    margin: float
    internal_flash_bytes: int | None = None  # the internal flash, where an external tier counts too
    tier: str | None = None  # that tier's name
    tier_bytes: int = 0  # and its capacity

    @property
    def usable_flash(self) -> int:
        return int(self.flash_bytes * (1 - self.margin))

    def usable(self, nbytes: int) -> int:
        return int(nbytes * (1 - self.margin))

    def describe_flash(self) -> str:
        """'1,048,576 B' or '17,825,792 B [flash 1,048,576 B + qspi 16,777,216 B]'."""
        if self.tier is None:
            return f"{self.flash_bytes:,} B"
        return (
            f"{self.flash_bytes:,} B [flash {self.internal_flash_bytes:,} B + {self.tier} "
            f"{self.tier_bytes:,} B]"
        )

    @property
    def usable_ram(self) -> int:
        return int(self.ram_bytes * (1 - self.margin))

    def to_dict(self) -> dict:
        return asdict(self) | {"usable_flash": self.usable_flash, "usable_ram": self.usable_ram}


@dataclass
class Candidate:
    name: str
    fraction: float  # of the linear weights; 1.0 = not decomposed
    arch: dict | None = None  # ViTConfig changes (patch_size, embed_dim); None = the model as given
    plan: dict | None = None  # the low-rank plan (ranks.RankPlan.to_dict), None when dense
    sizes: Sizes | None = None
    flash_bytes: int = 0  # estimated: int8 weights + the build's overhead (internal and external flash)
    internal_flash_bytes: int = 0  # estimated: of which in the internal flash
    ram_bytes: int = 0  # estimated: arena + stack + the build's overhead
    fits: bool = False
    accuracy_before: float | None = None  # held-out top-1 before fine-tuning (decomposed as is)
    accuracy_after: float | None = None
    finetune: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def params(self) -> int:
        return self.sizes.params if self.sizes else 0

    def ranks_summary(self) -> str:
        if not self.plan:
            return "dense"
        ranks = [layer["rank"] for layer in self.plan["layers"] if layer["rank"] is not None]
        if not ranks:
            return "dense"
        return f"{len(ranks)}/{len(self.plan['layers'])} low-rank, r {min(ranks)}-{max(ranks)}"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "fraction": self.fraction,
            "arch": self.arch,
            "ranks": self.ranks_summary(),
            "params": self.params,
            "sizes": self.sizes.to_dict() if self.sizes else None,
            "flash_bytes": self.flash_bytes,
            "internal_flash_bytes": self.internal_flash_bytes,
            "weights_in": self.sizes.weights_in() if self.sizes else None,
            "ram_bytes": self.ram_bytes,
            "fits": self.fits,
            "accuracy_before": self.accuracy_before,
            "accuracy_after": self.accuracy_after,
            "finetune": self.finetune,
            "lowrank": self.plan,
            "notes": self.notes,
        }


def candidates(
    model: nn.Module,
    fractions: tuple[float, ...] = FRACTIONS,
    search_arch: bool = False,
    patches: tuple[int, ...] | None = None,
    widths: tuple[int, ...] | None = None,
) -> list[Candidate]:
    """The model at each budget, then (search_arch) every other (P, D) of the space at each budget."""
    if not fractions:
        raise FitError("no low-rank budget to try: give --fractions, e.g. 1,0.5,0.25")
    out = [Candidate(_name(None, f), f) for f in fractions]
    if search_arch:
        cfg = vit_config(model)
        for arch in arch_space(cfg, patches, widths):
            out += [Candidate(_name(arch, f), f, arch) for f in fractions]
    return out


def vit_config(model: nn.Module) -> ViTConfig:
    cfg = getattr(model, "cfg", None)
    if not isinstance(model, ViT) or not isinstance(cfg, ViTConfig):
        raise FitError(
            f"--search-arch changes patch size and width of an edgexf.models.vit.ViT; the model is a "
            f"{type(model).__name__}. Leave out --search-arch to search low-rank budgets only."
        )
    return cfg


def arch_space(
    cfg: ViTConfig, patches: tuple[int, ...] | None = None, widths: tuple[int, ...] | None = None
) -> list[dict]:
    """(patch_size, embed_dim) pairs other than the model's own. Defaults: the patches of ARCH_PATCHES
    from half to twice the model's that divide the image; the widths of ARCH_WIDTHS up to the model's,
    multiples of its heads. O(len(patches) x len(widths)) candidates per budget."""
    if patches is None:
        patches = tuple(
            p
            for p in ARCH_PATCHES
            if cfg.patch_size / 2 <= p <= 2 * cfg.patch_size
            and p < cfg.image_size
            and cfg.image_size % p == 0
        )
    if widths is None:
        widths = tuple(d for d in ARCH_WIDTHS if d <= cfg.embed_dim) or (cfg.embed_dim,)
    bad = [p for p in patches if cfg.image_size % p] + [d for d in widths if d % cfg.num_heads]
    if bad:
        raise FitError(
            f"{bad}: a patch size must divide the image ({cfg.image_size}) and a width be a multiple of "
            f"the heads ({cfg.num_heads})"
        )
    own = (cfg.patch_size, cfg.embed_dim)
    return [
        {"patch_size": p, "embed_dim": d}
        for p in sorted(set(patches))
        for d in sorted(set(widths))
        if (p, d) != own
    ]


def _name(arch: dict | None, fraction: float) -> str:
    rank = "dense" if fraction >= 1.0 else f"lowrank {fraction:g}"
    return rank if arch is None else f"P{arch['patch_size']} D{arch['embed_dim']} {rank}"


def make_module(cand: Candidate, model: nn.Module, seed: int = 0) -> tuple[nn.Module, dict | None]:
    """The candidate's module (a copy) and its low-rank plan. Architecture candidates start untrained."""
    if cand.arch is not None:
        torch.manual_seed(seed)
        model = ViT(replace(vit_config(model), **cand.arch))
    if cand.fraction >= 1.0:
        return copy.deepcopy(model).eval(), None
    return decompose(model, budget_fraction=cand.fraction)


def measure_all(
    cands: list[Candidate],
    model: nn.Module,
    example: torch.Tensor,
    x_calib: np.ndarray,
    board: Board,
    log: Log,
    exact_time_s: float,
    weights: str = "auto",
) -> dict[str, nn.Module]:
    """Measure every candidate in place; returns name -> module (to fine-tune the chosen ones).
    weights: compile's --weights, where the weights go."""
    modules = {}
    for i, cand in enumerate(cands, 1):
        module, cand.plan = make_module(cand, model)
        cand.sizes = measure_graph(
            lower(module, example, cand.name), x_calib, board, exact_time_s=exact_time_s, weights=weights
        )
        modules[cand.name] = module
        s = cand.sizes
        log(
            f"  [{i}/{len(cands)}] {cand.name}: {s.params:,} parameters, int8 weights {s.weights_bytes:,} B "
            f"in {s.weights_in()}, arena {s.arena_bytes:,} B ({s.seconds} s)"
        )
    return modules


def judge(cands: list[Candidate], board: Board, overhead: Overhead, budget: Budget) -> None:
    """Fits: all flash and RAM within the budget less the margin, and with an external tier each flash
    within its own capacity. Not each less the margin: compile's placement (--weights auto) fills the
    internal flash up to its code reserve, so a margin there would refuse every model that needs the
    external flash (MCUFormer's dense weights took 94% of the internal 1 MB); the margin is on the sum."""
    for cand in cands:
        s = cand.sizes
        cand.flash_bytes = s.flash_bytes(overhead)
        cand.internal_flash_bytes = s.internal_flash_bytes(overhead)
        cand.ram_bytes = s.ram_bytes(board, overhead)
        cand.fits = cand.flash_bytes <= budget.usable_flash and cand.ram_bytes <= budget.usable_ram
        if budget.tier is not None:
            cand.fits = cand.fits and cand.internal_flash_bytes <= budget.internal_flash_bytes
            cand.fits = cand.fits and s.external_weights_bytes <= budget.tier_bytes


def chosen(cands: list[Candidate], top: int) -> list[Candidate]:
    """The `top` fitting candidates with the most parameters."""
    return sorted((c for c in cands if c.fits), key=lambda c: -c.params)[:top]


def accuracy_as_is(cands: list[Candidate], modules: dict[str, nn.Module], split) -> None:
    """Held-out top-1 of each trained candidate before any fine-tuning (architecture candidates are
    untrained: left out)."""
    for cand in cands:
        if cand.arch is None:
            cand.accuracy_before = evaluate(modules[cand.name], split.x_test, split.y_test)


def finetune_chosen(
    picks: list[Candidate],
    modules: dict[str, nn.Module],
    split,
    *,
    epochs: int,
    arch_epochs: int,
    lr: float,
    device: str | None,
    log: Log,
    remeasure: Callable[[Candidate, nn.Module], None],
    base_cfg: ViTConfig | None = None,
) -> None:
    """Fine-tune each pick in place; its module in `modules` is replaced by the trained one.
    Architecture candidates are first trained from scratch (dense), decomposed, and measured again."""
    held = (split.x_test, split.y_test)
    for cand in picks:
        module = modules[cand.name]
        if cand.arch is not None:
            log(f"training {cand.name} from scratch ({arch_epochs} epochs)")
            torch.manual_seed(0)
            dense = ViT(replace(base_cfg, **cand.arch))
            train = dict(held_out=held, epochs=arch_epochs, lr=ARCH_LR, device=device)
            finetune(dense, split.x_train, split.y_train, **train)
            dense.cpu().eval()
            module, cand.plan = (
                (dense, None) if cand.fraction >= 1.0 else decompose(dense, budget_fraction=cand.fraction)
            )
            remeasure(cand, module)
        if epochs > 0:
            log(f"fine-tuning {cand.name} ({epochs} epochs)")
            result = finetune(
                module, split.x_train, split.y_train, held_out=held, epochs=epochs, lr=lr, device=device
            )
            cand.accuracy_before, cand.accuracy_after = result.accuracy_before, result.accuracy_after
            cand.finetune = result.to_dict()
        else:
            cand.accuracy_after = evaluate(module.cpu(), *held)
            cand.accuracy_before = cand.accuracy_before if cand.arch is None else cand.accuracy_after
            cand.notes.append("not fine-tuned (--epochs 0)")
        modules[cand.name] = module.cpu().eval()


def winner(picks: list[Candidate]) -> Candidate:
    """The most accurate fitting pick after fine-tuning; ties go to the one with more parameters."""
    fitting = [c for c in picks if c.fits]
    if not fitting:
        raise FitError("no fine-tuned candidate still fits once measured again; try a larger --top")
    return max(fitting, key=lambda c: (c.accuracy_after or 0.0, c.params))
