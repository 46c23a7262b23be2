"""Train an LMU or a Mamba on sequential MNIST-5k (each 28x28 image as 28 rows, one row per step).

    python examples/smnist.py [--model lmu|mamba] [--epochs N] [--seed S] [--shift N] [--save-state FILE]
    python examples/smnist.py --write-data DIR     (the two .npz files only, for the bundled models)

Prints the test accuracy, and checks that running the model one step at a time (as the board does)
gives the same logits as the whole-sequence forward. --save-state saves the trained weights with their
config, so the model can be rebuilt without training: `load_trained(path, model)` does that;
`bundled()` (the LMU) and `bundled_mamba()` load smnist_lmu_state.pt / smnist_mamba_state.pt beside
this file, which makes this file a model for edgexf, which compiles their `step` (one row in, logits
and the new state out):

    edgexf compile examples/smnist.py:bundled --board stm32f746 -o build --test-data smnist_test.npz
    edgexf compile examples/smnist.py:bundled_mamba --board stm32f746 -o build --test-data smnist_test.npz

--write-data writes smnist_test.npz (x: the 1000 test sequences (N, 28, 28) float32, y: labels) and
smnist_calib.npz (x: 500 training sequences, 50 per class, for int8 calibration).

The models (CONFIGS), both trained with random shifts of the image of up to --shift pixels; the data
split is fixed (4000 train, 1000 test, stratified, seed 0), --seed sets the initialisation, shuffling
and augmentation. Times are on this machine's 2 cores, shared with other work:
- lmu: rows embedded to D = 32, one LMU block with C = 32 memory channels of order d = 16 over
  theta = 28 steps (ZOH), a GELU MLP of 64, a linear head: 23,114 parameters; its state is one (32, 16)
  memory, 512 floats (2 KB). 60 epochs, seed 0 (`python examples/smnist.py --save-state
  examples/smnist_lmu_state.pt`): 97.5% test accuracy in 73 s (1.2 s an epoch). In a sweep on an idle
  host's CPU (2 threads, torch 2.11), C = 16 memory channels (14,394 parameters) reached 96.4% and two
  blocks of C = 16 96.8%.
- mamba: rows embedded to d_model = 32, two Mamba blocks (d_inner 64, d_state 8, d_conv 4, dt_rank 2),
  RMSNorm, a linear head: 18,122 parameters; its state is, per block, a conv FIFO (64, 3) and h (64, 8),
  1,408 floats (5.5 KB) in all. 40 epochs, seed 0 (`python examples/smnist.py --model mamba
  --save-state examples/smnist_mamba_state.pt`): 97.5% in 223 s (5.5 s an epoch). Seed 1 reached 97.1%
  on an idle host; d_state 16 (21,194 parameters, 30 epochs) 97.2%.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from edgexf.datasets import load_smnist, save_npz
from edgexf.errors import ModelLoadError
from edgexf.models.lmu import LMU, LMUConfig
from edgexf.models.mamba import Mamba, MambaConfig
from edgexf.models.streaming import run_steps
from edgexf.models.training import evaluate, random_shift, train_classifier

TEST_FILE = "smnist_test.npz"
CALIB_FILE = "smnist_calib.npz"
CALIB_PER_CLASS = 50  # 500 training sequences for int8 calibration
STATE_FILES = {"lmu": "smnist_lmu_state.pt", "mamba": "smnist_mamba_state.pt"}  # beside this file

MODELS = {"lmu": (LMU, LMUConfig), "mamba": (Mamba, MambaConfig)}
CONFIGS = {
    "lmu": dict(
        input_dim=28, num_classes=10, embed_dim=32, memory_dim=32, order=16, theta=28.0, depth=1,
        mlp_ratio=2.0, discretization="zoh",
    ),
    "mamba": dict(input_dim=28, num_classes=10, d_model=32, n_layer=2, d_state=8, expand=2, d_conv=4),
}  # fmt: skip
TRAINING = dict(
    lr=3e-3, batch_size=64, weight_decay=0.05, label_smoothing=0.1, warmup_epochs=2, grad_clip=1.0
)
EPOCHS = {"lmu": 60, "mamba": 40}
SHIFT = 2


def load_trained(path: str | Path, model: str = "lmu") -> tuple[torch.nn.Module, torch.Tensor]:
    """Rebuild a model saved by --save-state: (eval-mode model on the CPU, a (1, 28, 28) input sequence).

    The file holds {"config": LMUConfig or MambaConfig fields, "state_dict": weights}; `model` says
    which ("lmu" or "mamba"). The example input is the first test sequence.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(
            f"{path} does not exist; train and save one with: "
            f"python examples/smnist.py --model {model} --save-state {path}"
        )
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model_class, config_class = MODELS[model]
    net = model_class(config_class(**saved["config"]))
    net.load_state_dict(saved["state_dict"])
    example_input = torch.from_numpy(load_smnist().x_test[:1])  # (1, 28, 28)
    return net.eval(), example_input


def bundled() -> tuple[torch.nn.Module, torch.Tensor]:
    """The trained LMU shipped beside this file (smnist_lmu_state.pt), for `smnist.py:bundled`."""
    return load_trained(Path(__file__).resolve().with_name(STATE_FILES["lmu"]), "lmu")


def bundled_mamba() -> tuple[torch.nn.Module, torch.Tensor]:
    """The trained Mamba shipped beside this file (smnist_mamba_state.pt), for `smnist.py:bundled_mamba`."""
    return load_trained(Path(__file__).resolve().with_name(STATE_FILES["mamba"]), "mamba")


def calibration_indices(y: np.ndarray, per_class: int = CALIB_PER_CLASS) -> np.ndarray:
    """The first `per_class` indices of each class in y, in their original order."""
    return np.sort(np.concatenate([np.flatnonzero(y == k)[:per_class] for k in np.unique(y)]))


def write_data(directory: Path) -> tuple[Path, Path]:
    """smnist_test.npz (1000 test sequences and labels) and smnist_calib.npz (500 training sequences)
    in `directory`."""
    data = load_smnist()
    test_path = save_npz(directory / TEST_FILE, data.x_test, data.y_test)
    calib_path = save_npz(directory / CALIB_FILE, data.x_train[calibration_indices(data.y_train)])
    print(f"saved test set: {test_path}")
    print(f"saved calibration set: {calib_path}")
    return test_path, calib_path


def shift_rows(max_shift: int):
    """random_shift for sequences of rows: (B, T, d_in) viewed as (B, 1, T, d_in) images."""
    shift = random_shift(max_shift)
    return lambda x, generator: shift(x.unsqueeze(1), generator).squeeze(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write-data", type=Path, metavar="DIR", help="only write the test and calibration sets to DIR"
    )
    parser.add_argument("--model", choices=sorted(MODELS), default="lmu")
    parser.add_argument("--epochs", type=int, help=f"default: {EPOCHS}")
    parser.add_argument("--seed", type=int, default=0, help="weight init, shuffling (the split is fixed)")
    parser.add_argument(
        "--shift", type=int, default=SHIFT, help=f"augment with random shifts of up to N pixels ({SHIFT})"
    )
    parser.add_argument("--save-state", type=Path, help="save the trained weights (for load_trained)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    # For the test suite: train on the first N training sequences only (the test set stays whole).
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write_data is not None:
        write_data(args.write_data)
        return

    epochs = args.epochs or EPOCHS[args.model]

    torch.set_num_threads(min(2, torch.get_num_threads()))
    t0 = time.perf_counter()
    data = load_smnist()
    x_train, y_train = data.x_train[: args.limit], data.y_train[: args.limit]
    model_class, config_class = MODELS[args.model]
    cfg = config_class(**CONFIGS[args.model])
    torch.manual_seed(args.seed)  # the weight initialisation
    model = model_class(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"{model_class.__name__} {cfg.to_dict()}: {n_params} parameters, {cfg.state_floats} state floats; "
        f"{len(x_train)} train, {len(data.x_test)} test"
    )

    t_train = time.perf_counter()
    train_classifier(
        model,
        x_train,
        y_train,
        epochs=epochs,
        seed=args.seed,
        progress=not args.quiet,
        augment=shift_rows(args.shift) if args.shift > 0 else None,
        **TRAINING,
    )
    train_seconds = time.perf_counter() - t_train
    accuracy = evaluate(model, data.x_test, data.y_test, batch_size=256)
    print(
        f"test accuracy: {accuracy:.4f} (in {time.perf_counter() - t0:.1f} s; "
        f"{train_seconds / epochs:.2f} s per epoch)"
    )
    x = torch.from_numpy(data.x_test[:4])
    with torch.no_grad():
        diff = (run_steps(model, x)[:, -1] - model(x)).abs().max().item()
    print(f"step by step vs whole sequence, 4 test sequences: max |logit difference| {diff:.2e}")
    if args.save_state is not None:
        args.save_state.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict()}, args.save_state)
        print(f"saved state: {args.save_state}")


if __name__ == "__main__":
    main()
