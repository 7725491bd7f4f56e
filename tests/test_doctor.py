"""`cnn-edge doctor` on this machine: real LiteRT, the shipped tiny model, no TensorFlow needed."""

from __future__ import annotations

import json
import subprocess
import sys

from cnn_edge.device.doctor import DOCTOR_EXPECTED, DOCTOR_MODEL, DoctorConfig, check_tiny_model, doctor
from tests.conftest import run_cli


def test_shipped_model_is_tiny_and_recorded() -> None:
    expected = json.loads(DOCTOR_EXPECTED.read_text())
    assert DOCTOR_MODEL.stat().st_size == expected["size_bytes"] < 64 * 1024
    assert expected["expected_accuracy"] > 0.9


def test_tiny_model_check_passes_here() -> None:
    c = check_tiny_model()
    assert c.status == "ok", c


def test_doctor_json_ready() -> None:
    res = run_cli("doctor", "--no-camera", "--json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    names = {c["name"]: c for c in d["checks"]}
    assert d["ready"] is True
    assert names["tiny model"]["status"] == "ok" and names["backend litert"]["status"] == "ok"
    assert {"python", "numpy", "cpu architecture", "opencv", "camera"} <= set(names)


def test_missing_tflite_runtime_explains_the_fix() -> None:
    r = doctor(DoctorConfig(camera=None))
    tr = [c for c in r.checks if c.name == "backend tflite-runtime"]
    assert tr and (tr[0].status == "ok" or "numpy<2" in tr[0].fix or "3.11" in tr[0].fix)


def test_doctor_imports_no_tensorflow() -> None:
    code = ("import sys; sys.modules['tensorflow'] = None\n"
            "from cnn_edge.device.doctor import DoctorConfig, doctor\n"
            "assert doctor(DoctorConfig(camera=None)).ready\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
