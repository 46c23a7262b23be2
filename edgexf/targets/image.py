"""Several prefixed models (edgexf compile --prefix) linked into one image with one kernel library.

Each model folder carries the same kernels; the image takes them from the first folder and each
model's own two files (PREFIX_model.c, PREFIX_weights.c) from every folder. Models built by another
edgexf, or with other kernel sources, are refused here by their version (and would fail to link
anyway: codegen/kernel_version.py). shared_arena: every model's arena is the one region `shared_arena`
the app defines (-DPREFIX_ARENA=shared_arena for each model), for models that never run at the same time.
"""

from __future__ import annotations

from pathlib import Path

from edgexf.errors import EdgexfError
from edgexf.resources import firmware_dir
from edgexf.targets.boards import Board
from edgexf.targets.toolchain import Firmware, link_firmware, model_api, model_header

_STAMP = "stamped by edgexf"


def model_files(model_dir: Path) -> list[Path]:
    """A prefixed model's own sources, apart from the kernel library."""
    api = model_api(model_dir)
    if api == "edgexf":
        raise EdgexfError(f"{model_dir} was compiled without --prefix: its edgexf_* names clash in one image")
    return [model_dir / f"{api}_model.c", model_dir / f"{api}_weights.c"]


def kernel_version_of(model_dir: Path) -> str:
    lines = (model_dir / "edgexf_kernels.h").read_text().splitlines()
    return "\n".join(line for line in lines if _STAMP in line)


def link_models(
    board: Board,
    model_dirs: list[Path],
    app: Path,
    out_dir: Path,
    emulated: bool,
    shared_arena: bool = False,
    defines: tuple[str, ...] = (),
) -> Firmware:
    """The models, one copy of the kernels and `app` (a .c that includes each PREFIX_model.h) linked
    for `board` into out_dir/app.elf (emulated: at its emulator's addresses)."""
    dirs = [Path(d) for d in model_dirs]
    versions = {kernel_version_of(d) for d in dirs}
    if len(versions) != 1:
        raise EdgexfError(
            "these models were generated for different kernel libraries (edgexf versions or kernel "
            f"sources): {', '.join(map(str, dirs))}; compile them with the same edgexf"
        )
    own = [f for d in dirs for f in model_files(d)]
    mine = {f.name for f in own}
    kernels = [p for p in sorted(dirs[0].glob("*.c")) if p.name not in mine]
    fw = firmware_dir()
    sources = [*own, *kernels, app, fw / "platform" / "platform_semihost.c", fw / "startup" / "startup.c",
               fw / "startup" / "semihost.c"]  # fmt: skip
    flags = [f"-D{d}" for d in defines]
    if shared_arena:
        flags += [f"-D{model_api(d).upper()}_ARENA=shared_arena" for d in dirs]
    flags += [*(f"-I{d}" for d in dirs), f"-I{fw / 'platform'}", f"-I{fw / 'startup'}"]
    what = " + ".join(model_header(d) for d in dirs) + f" for {board.name}"
    return link_firmware(board, sources, flags, out_dir, emulated, what)


def two_models_defines(model_dirs: list[Path], shared_arena: bool) -> tuple[str, ...]:
    """The defines firmware/app/two_models.c is built with for these two models."""
    defines = []
    for letter, d in zip("AB", model_dirs, strict=True):
        api = model_api(Path(d))
        defines += [f"MODEL_{letter}={api}", f"MODEL_{letter}_UPPER={api.upper()}",
                    f'MODEL_{letter}_HEADER="{model_header(Path(d))}"']  # fmt: skip
    return (*defines, *(("SHARED_ARENA",) if shared_arena else ()))
