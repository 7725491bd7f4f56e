#!/usr/bin/env bash
# Set up a virtual environment with the dev extra, bring the system programs the tests need
# (scripts/system-deps.sh: sshd and Chromium where this machine lets us install them, else one
# line saying what will be skipped), then check the layering and style and run the test suite.
# Usage: scripts/test.sh [pytest options...]     (PYTHON=python3.11 picks the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CNN_EDGE_TEST_VENV:-.venv-test}"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
# shellcheck source=scripts/system-deps.sh
. scripts/system-deps.sh
"$venv/bin/ruff" check -q .             # style and the complexity limit (pyproject.toml)
"$venv/bin/lint-imports" --no-cache     # the layering contracts (pyproject.toml, docs/architecture.md)
exec "$venv/bin/python" -m pytest "$@"
