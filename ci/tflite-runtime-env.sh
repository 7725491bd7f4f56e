#!/usr/bin/env bash
# Run the edge-runtime tests where a Raspberry Pi guide's install would leave you: tflite-runtime
# 2.14 with numpy<2 and headless OpenCV, and NO TensorFlow and NO LiteRT. The tests' models are
# built first with the TensorFlow venv and handed over with CNN_EDGE_TEST_MODELS.
#
# Usage: PYTHON=.venv-test/bin/python ci/tflite-runtime-env.sh [pytest options...]
#   PYTHON          the TensorFlow venv's Python (cnn-edge[dev]): builds the test models
#   BASE_PYTHON     the Python 3.11 (or older) to create the tflite-runtime venv from (default python3.11)
#   CNN_EDGE_TFLITE_VENV  where to keep that venv (default .venv-tflite-runtime; reused when present)
# tflite-runtime 2.14 has wheels for Python <= 3.11 only.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$REPO/.venv-test/bin/python}"
# A relative path (PYTHON=.venv-test/bin/python) must survive the `cd`s below; keep the venv's
# symlink itself (resolving it would leave the venv).
case "$PY" in */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;; esac
cd "$REPO"
BASE_PY="${BASE_PYTHON:-python3.11}"
VENV="${CNN_EDGE_TFLITE_VENV:-.venv-tflite-runtime}"
TESTS=(tests/test_infer_files.py tests/test_camera.py tests/test_preprocess.py tests/test_no_tensorflow.py)
[ -f tests/test_evaluate.py ] && TESTS+=(tests/test_evaluate.py)
START=$SECONDS
say() { printf '== [%3ds] %s\n' "$((SECONDS - START))" "$*"; }
die() {
    printf 'tflite-runtime-env: FAIL: %s\n' "$*" >&2
    exit 1
}

MODELS="$(mktemp -d "${TMPDIR:-/tmp}/cnn-edge-test-models.XXXXXX")"
trap 'rm -rf "$MODELS"' EXIT
say "test models: training and converting with $PY (TensorFlow)"
"$PY" ci/build_test_models.py "$MODELS" | sed 's/^/   /' || die "building the test models with $PY failed"

if [ ! -x "$VENV/bin/python" ]; then
    say "venv: creating $VENV with $BASE_PY"
    "$BASE_PY" -m venv "$VENV" || die "cannot create a venv with $BASE_PY (tflite-runtime needs Python <= 3.11)"
fi
VPY="$VENV/bin/python"
say "venv: installing tflite-runtime==2.14.*, numpy<2, opencv-python-headless, typer, rich (+ pytest, hypothesis, Pillow)"
"$VPY" -m pip install -q --disable-pip-version-check "tflite-runtime==2.14.*" "numpy<2" opencv-python-headless \
    "typer>=0.12" "rich>=13" pytest hypothesis Pillow >"$MODELS/pip.log" 2>&1 ||
    { cat "$MODELS/pip.log" >&2; die "pip install into $VENV failed"; }
"$VPY" -m pip install -q --disable-pip-version-check --no-deps -e . >>"$MODELS/pip.log" 2>&1 ||
    { cat "$MODELS/pip.log" >&2; die "pip install -e . failed"; }
# Nothing heavier may be there: the point is the fallback path.
"$VPY" - <<'EOF' || die "$VENV is not a tflite-runtime-only environment (see above)"
import importlib.util, sys
import numpy
present = [m for m in ("tensorflow", "ai_edge_litert", "keras") if importlib.util.find_spec(m)]
if present:
    sys.exit(f"unexpected packages importable: {present}")
if int(numpy.__version__.split(".")[0]) >= 2:
    sys.exit(f"numpy {numpy.__version__}: tflite-runtime 2.14 needs numpy<2")
EOF
backends="$("$VPY" -c 'from cnn_edge.edge_runtime.interpreter import available_backends; print(available_backends())')"
say "venv: $("$VPY" -c 'import sys, numpy, cv2; print("Python", sys.version.split()[0], "numpy", numpy.__version__, "OpenCV", cv2.__version__)'), backends $backends"
case "$backends" in
*"'tflite-runtime': '2.14"*) ;;
*) die "tflite-runtime 2.14 is not the usable backend in $VENV: $backends" ;;
esac
"$VPY" -m cnn_edge doctor >"$MODELS/doctor.txt" 2>&1 || true
grep -iE "backend|tflite" "$MODELS/doctor.txt" | head -5 | sed 's/^/   doctor: /' || true

say "tests: ${TESTS[*]} (CNN_EDGE_TEST_MODELS=$MODELS)"
CNN_EDGE_TEST_MODELS="$MODELS" CNN_EDGE_EXPECT_BACKEND=tflite-runtime \
    "$VPY" -m pytest -p no:cacheprovider "${TESTS[@]}" tests/test_tflite_runtime.py "$@" ||
    die "edge-runtime tests failed with tflite-runtime"
say "PASS: the edge runtime works with tflite-runtime 2.14 + numpy<2, without TensorFlow or LiteRT"
