#!/usr/bin/env bash
# Set up a virtual environment with the dev extra and run the test suite.
# Usage: scripts/test.sh [pytest options...]     (PYTHON=python3.11 picks the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CNN_EDGE_TEST_VENV:-.venv-test}"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
exec "$venv/bin/python" -m pytest "$@"
