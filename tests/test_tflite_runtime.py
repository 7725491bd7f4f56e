"""The tflite-runtime fallback backend: what ci/tflite-runtime-env.sh checks, and the numpy 2 trap."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn_edge.common.errors import BackendError
from cnn_edge.edge_runtime.interpreter import available_backends, load_model

SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "cnn_edge/device/assets/doctor_model.tflite"
HAS_TFLITE_RUNTIME = importlib.util.find_spec("tflite_runtime") is not None
NUMPY_MAJOR = int(np.__version__.split(".")[0])


@pytest.mark.skipif(not os.environ.get("CNN_EDGE_EXPECT_BACKEND"),
                    reason="CNN_EDGE_EXPECT_BACKEND not set (set by ci/tflite-runtime-env.sh)")
def test_expected_backend_is_the_one_used():
    expected = os.environ["CNN_EDGE_EXPECT_BACKEND"]
    found = available_backends()
    assert not found.get(expected, "unavailable").startswith("unavailable"), found
    assert load_model(SHIPPED_MODEL).backend == expected  # "auto" picks it
    doctor = subprocess.run([sys.executable, "-m", "cnn_edge", "doctor"], capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert expected in doctor.stdout + doctor.stderr


@pytest.mark.skipif(not (HAS_TFLITE_RUNTIME and NUMPY_MAJOR >= 2),
                    reason="needs tflite-runtime and numpy 2 installed together")
def test_tflite_runtime_with_numpy2_is_one_clear_error():
    with pytest.raises(BackendError) as info:
        load_model(SHIPPED_MODEL, backend="tflite-runtime")
    assert "numpy" in str(info.value) and "numpy<2" in (info.value.hint or "")
