"""`cnn-edge convert`: real conversions of a tiny trained model, checked in LiteRT."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from cnn_edge.calibration_data import load_evaluation_set
from cnn_edge.edge_runtime.interpreter import load_model


def test_converted_run_has_both_models_and_manifest(converted_run: Path) -> None:
    for name in ("model_float32.tflite", "model_int8.tflite", "manifest.json"):
        assert (converted_run / name).is_file(), name
    images, _ = load_evaluation_set()
    f32 = load_model(converted_run / "model_float32.tflite")
    i8 = load_model(converted_run / "model_int8.tflite")
    agree = (f32.predict(images[:2000]) == i8.predict(images[:2000])).mean()
    assert agree > 0.95
    manifest = json.loads((converted_run / "manifest.json").read_text())
    for entry in manifest["models"]:
        data = (converted_run / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size_bytes"] == len(data)
    assert np.dtype(i8.input_dtype) == np.int8
