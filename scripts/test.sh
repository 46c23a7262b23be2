#!/usr/bin/env bash
# Set up, then run the whole test suite: one pytest-xdist worker per core, each test file on one worker
# (its module fixtures are built once). pytest exits non-zero (5) if it collects no test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -n auto --dist loadfile -ra --durations=15 "$@"
