#!/usr/bin/env bash
# The main job, end to end: set up, train a compact ViT on scikit-learn's digits, compile it for the
# STM32F746 (float32, then int8), run each firmware in QEMU on the whole test set, print the reports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT=${OUT:-out/vit_digits}
mkdir -p "$OUT"
echo "== training (examples/vit_digits.py)"
.venv/bin/python examples/vit_digits.py --out "$OUT/vit.pt2"
echo "== compiling for stm32f746"
.venv/bin/edgexf compile "$OUT/vit.pt2" --board stm32f746 --test-data "$OUT/vit_digits_test.npz" -o "$OUT/build"
echo "== running the firmware in QEMU on the test set"
.venv/bin/edgexf run "$OUT/build" --emulate --check
echo "== compiling again, quantized to int8 (calibration: 500 training images)"
.venv/bin/edgexf compile "$OUT/vit.pt2" --board stm32f746 --test-data "$OUT/vit_digits_test.npz" \
    --quantize int8 --calibration "$OUT/vit_digits_calib.npz" -o "$OUT/build_int8"
echo "== running the int8 firmware in QEMU on the test set"
.venv/bin/edgexf run "$OUT/build_int8" --emulate --check
