"""The Cortex-M cores edgexf knows: one table, read by board validation (edgexf/targets/boards.py) and
by the kernel choice (edgexf/ir/kernel_choice.py, 'auto' picks the DSP kernels where the core has them,
the MVE ones where it has Helium).

It lives in ir/ because the kernel choice, an IR attribute, reads it, and ir/ imports nothing above it;
targets/ is above ir/ and imports it from here. A new core is one line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Core:
    # -mfpu values a board with this core may name (GCC 12 names). "none": no FPU, soft-float calls;
    # "auto" lets -mcpu pick (the Cortex-M55's FPU comes with its MVE extension). Empty: no board may
    # name the core yet (GCC 12 has no -mcpu=cortex-m85; the M35P is untested here).
    fpus: tuple[str, ...]
    # the DSP extension (SMLAD, SXTB16): Armv7E-M, and Armv8-M Mainline with DSP
    dsp: bool
    # the M-profile vector extension (MVE, Helium: 128-bit vectors of 16 int8, VMLADAV): Armv8.1-M
    mve: bool = False


CORES: dict[str, Core] = {
    "cortex-m0": Core(("none",), dsp=False),
    "cortex-m0plus": Core(("none",), dsp=False),
    "cortex-m3": Core(("none",), dsp=False),
    "cortex-m4": Core(("fpv4-sp-d16", "none"), dsp=True),
    "cortex-m7": Core(("fpv5-sp-d16", "fpv5-d16", "none"), dsp=True),
    "cortex-m33": Core(("fpv5-sp-d16", "none"), dsp=True),
    "cortex-m35p": Core((), dsp=True),
    "cortex-m55": Core(("auto", "none"), dsp=True, mve=True),
    "cortex-m85": Core((), dsp=True, mve=True),
}
# the cores a board file may name, with the -mfpu values each allows
CORE_FPUS: dict[str, tuple[str, ...]] = {name: c.fpus for name, c in CORES.items() if c.fpus}


def has_dsp(core: str) -> bool:
    """Whether `core` has the DSP extension (an unknown core has not)."""
    return core in CORES and CORES[core].dsp


def has_mve(core: str) -> bool:
    """Whether `core` has MVE (Helium); every such core also has the DSP extension."""
    return core in CORES and CORES[core].mve
