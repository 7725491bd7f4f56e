#!/usr/bin/env bash
# The main job end to end on the data the repository ships:
# set up a virtual environment, train the seed CNN, convert it to float32 and int8 TFLite,
# and evaluate the int8 model against float32 with the edge runtime.
# Usage: scripts/quickstart.sh [RUN_DIR]   (default runs/quickstart; EPOCHS=2 for a quick try)
set -euo pipefail
cd "$(dirname "$0")/.."
run="${1:-runs/quickstart}"
venv="${CNN_EDGE_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[workstation]"
cli="$venv/bin/cnn-edge"
"$cli" train --out "$run" --epochs "${EPOCHS:-10}" --force --quiet
"$cli" convert --run "$run" --int8
"$cli" evaluate --model "$run/model_int8.tflite" --markdown "$run/evaluation.md"
echo "Done: models, manifest and reports are in $run/"
