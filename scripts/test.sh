#!/usr/bin/env bash
# Set up, then run the whole test suite. pytest exits non-zero (5) if it collects no test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -ra --durations=15 "$@"
