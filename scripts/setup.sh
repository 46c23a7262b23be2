#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine, as root; safe to run again (it skips what is there).
#   - the ARM toolchain, newlib and QEMU from Debian (see ../shared/EMULATION.md), the flash tools
#     openocd and st-flash (edgexf flash; the tests run them with no board attached), and cmake
#     (tests/codegen/test_cmake_package.py builds the generated model/ as a CMake package)
#   - a virtual environment in .venv with torch 2.13.0 (CPU) first, then edgexf and its test tools
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v arm-none-eabi-gcc >/dev/null || ! command -v qemu-system-arm >/dev/null \
   || ! command -v gcc >/dev/null || ! command -v openocd >/dev/null || ! command -v st-flash >/dev/null \
   || ! command -v cmake >/dev/null || ! command -v make >/dev/null \
   || [ ! -f /usr/lib/arm-none-eabi/newlib/thumb/v7e-m+fp/hard/libc_nano.a ]; then
  echo "== installing gcc, arm-none-eabi-gcc, newlib, qemu-system-arm, openocd, stlink-tools, cmake and make (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    gcc libc6-dev gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm openocd stlink-tools cmake make >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
# torch first, pinned: a bare 'torch' requirement would pull a CUDA build of several GB.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "== installing torch 2.13.0 (CPU)"
  .venv/bin/pip install -q torch==2.13.0
fi
echo "== installing edgexf (editable) with its test tools"
.venv/bin/pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
# timm, for tests/frontends/test_timm_vit.py (a third-party ViT through ONNX). --no-deps: timm requires
# torchvision, whose PyPI wheel for torch 2.13 is a CUDA build that fails to load on CPU torch; timm's
# ViT does not use it (tests/data/timm_vit.py stands in for the few names timm imports). What else
# `import timm` needs is there already (pillow, with matplotlib); pyyaml comes with tflite-micro, and
# huggingface_hub and safetensors are optional (only for downloading pretrained weights).
if ! .venv/bin/python -c "import importlib.metadata as m; assert m.version('timm') == '1.0.31'" 2>/dev/null; then
  .venv/bin/pip install -q --no-deps timm==1.0.31 2>&1 | grep -v "^WARNING: Location" || true
fi
.venv/bin/python -c "import edgexf, torch; print('edgexf', edgexf.__version__, '/ torch', torch.__version__)"
