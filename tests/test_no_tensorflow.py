"""The edge runtime must run where TensorFlow is not installed: it never imports it."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np

from .conftest import MNIST

SCRIPT = """
import sys, json
from pathlib import Path
from cnn_edge.device.files import InferFilesConfig, infer_files
from cnn_edge.device.camera import CameraConfig, run_camera
import cnn_edge.device.live_server  # noqa: F401  (--serve)
res = infer_files(InferFilesConfig(model=Path(sys.argv[1]), paths=[sys.argv[2]]))
assert res.records[0].ok, res.records[0]
summary = run_camera(CameraConfig(model=Path(sys.argv[1]), source=sys.argv[3], display=False, frames=3))
assert summary.frames == 3
print(json.dumps({"tf": sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))}))
"""


def test_runtime_never_imports_tensorflow(converted_run, tmp_path):
    digit = np.load(MNIST)["x_test"][0]
    img = np.full((200, 200), 210, np.uint8)
    img[50:150, 50:150] -= (cv2.resize(digit, (100, 100)) * 0.7).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "d.png"), img)
    video = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (200, 200))
    for _ in range(3):
        w.write(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    w.release()
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(converted_run / "model_int8.tflite"),
                          str(tmp_path / "d.png"), str(video)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert '"tf": []' in res.stdout


def test_help_does_not_import_heavy_libraries():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom cnn_edge.cli import app\n"
            "CliRunner().invoke(app, ['infer', '--help'])\n"
            "print(sorted(m for m in ('cv2', 'tensorflow', 'ai_edge_litert') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr
