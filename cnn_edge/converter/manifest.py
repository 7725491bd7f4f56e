"""`manifest.json`: everything the edge runtime needs to run each model without guessing."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common.formats import ExportFormat
from cnn_edge.edge_runtime.interpreter import TfliteModel

SCHEMA_VERSION = 1
CLASS_LABELS = [str(d) for d in range(10)]
PREPROCESSING = {
    "input_shape": [1, 28, 28],
    "pixel_range": [0, 255],
    "pixels": "raw grayscale pixels 0-255 as float32 before any input quantization; the model "
              "rescales to 0-1 inside",
    "polarity": "white digit on black background (MNIST)",
    "size": "28x28, digit centred as in MNIST",
    "quantize_input": "q = clip(round(pixel / scale) + zero_point) when the input dtype is integer",
    "dequantize_output": "logit = scale * (q - zero_point) when the output dtype is integer",
}


def tensor_info(detail: dict[str, Any]) -> dict[str, Any]:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return {
        "name": detail["name"],
        "shape": [int(d) for d in detail["shape"]],
        "dtype": np.dtype(detail["dtype"]).name,
        "scale": float(scale),
        "zero_point": int(zero_point),
        "quantized": bool(scale) and np.issubdtype(np.dtype(detail["dtype"]), np.integer),
    }


def model_entry(fmt: ExportFormat, file_name: str, size: int, sha256: str, model: TfliteModel,
                io: str | None, accuracy: float | None, agreement: float | None) -> dict[str, Any]:
    """The manifest record of one written model.

    Take it from a freshly loaded model: batched inference resizes the input tensor, and the
    manifest must show the file's own shape (1, 28, 28).
    """
    return {
        "format": fmt.name,
        "file": file_name,
        "sha256": sha256,
        "size_bytes": size,
        "description": fmt.description,
        "fully_integer": fmt.fully_integer,
        "io": io,
        "input": tensor_info(model.input_detail),
        "output": tensor_info(model.output_detail),
        "accuracy": accuracy,
        "agreement_with_float32": agreement,
    }


def versions() -> dict[str, str]:
    """Versions that determine the model bytes (TensorFlow above all)."""
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for dist in ("tensorflow", "tensorflow-cpu", "keras", "ai-edge-litert", "cnn-edge"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def read_lineage(model_path: Path) -> dict[str, Any] | None:
    """Where a fine-tuned model came from: the `lineage` of the metrics.json beside it, if any.

    `cnn-edge finetune` writes it (parent run, parent model and samples checksums); a model
    trained from scratch has none.
    """
    try:
        metrics = json.loads((Path(model_path).parent / "metrics.json").read_text())
    except (OSError, ValueError):
        return None
    lineage = metrics.get("lineage") if isinstance(metrics, dict) else None
    return lineage if isinstance(lineage, dict) else None


def build_manifest(*, source: dict[str, Any], models: list[dict[str, Any]],
                   calibration: dict[str, Any] | None, evaluation: dict[str, Any] | None,
                   tf_version: str, reproducibility: dict[str, Any],
                   lineage: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole manifest. No timestamps: same inputs give the same manifest, byte for byte.

    `lineage` (a fine-tuned model's parent run and samples) is recorded under `source_model`.
    """
    if lineage is not None:
        source = {**source, "lineage": lineage}
    return {
        "schema_version": SCHEMA_VERSION,
        "tensorflow_version": tf_version,
        "versions": versions(),
        "source_model": source,
        "preprocessing": PREPROCESSING,
        "class_labels": CLASS_LABELS,
        "calibration": calibration,
        "evaluation": evaluation,
        "models": models,
        "reproducibility": reproducibility,
    }
