#!/usr/bin/env bash
# Lints and runs the whole test suite in a virtual X server (the GUI tests open real windows).
# Extra arguments go to pytest, e.g. 'scripts/test.sh -k bvh'.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
exec xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m pytest -ra "$@"
