"""Rebuild the tiny int8 model `cnn-edge doctor` runs: cnn_edge/device/assets/doctor_model.*

    python scripts/build_doctor_model.py [--data data/mnist.npz] [--epochs 2]

A ~5k-parameter CNN (two small convolutions, one dense layer) trained for a couple of epochs
on the first 55,000 MNIST training images, converted to full-integer int8 with the package's
own converter settings and shipped calibration set. Its accuracy on the shipped evaluation
set, measured in LiteRT, is recorded beside it; `doctor` checks a device reproduces it.
Needs TensorFlow (a workstation), never run on the device.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / "cnn_edge" / "edge_runtime" / "assets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "data" / "mnist.npz")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from cnn_edge.calibration_data import load_calibration_set, load_evaluation_set
    from cnn_edge.common.atomic import write_bytes, write_json
    from cnn_edge.common.formats import get_format
    from cnn_edge.converter.export import convert_format, export_saved_model, import_tensorflow
    from cnn_edge.edge_runtime.interpreter import load_model

    tf = import_tensorflow()
    tf.keras.utils.set_random_seed(args.seed)
    with np.load(args.data) as d:
        x, y = d["x_train"][:55000], d["y_train"][:55000]
    L = tf.keras.layers
    model = tf.keras.Sequential([
        tf.keras.Input((28, 28)),
        L.Rescaling(1 / 255.0),  # the model takes raw 0-255 pixels, like every cnn-edge model
        L.Reshape((28, 28, 1)),
        L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(),
        L.Conv2D(16, 3, activation="relu"), L.MaxPooling2D(),
        L.Flatten(), L.Dense(10),
    ])
    model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x.astype(np.float32), y, epochs=args.epochs, batch_size=128, verbose=2)

    cal, _ = load_calibration_set()
    with tempfile.TemporaryDirectory() as tmp:
        saved = export_saved_model(model, Path(tmp) / "saved")
        data = convert_format(saved, get_format("int8"), "int8", cal[:500])
    target = write_bytes(ASSETS / "doctor_model.tflite", data)
    images, labels = load_evaluation_set()
    acc = float((load_model(target, threads=1).predict(images) == labels).mean())
    write_json(ASSETS / "doctor_model.json", {
        "file": target.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_bytes": len(data),
        "format": "int8",
        "params": int(model.count_params()),
        "evaluation_images": int(len(labels)),
        "expected_accuracy": acc,
        # Integer kernels differ slightly between CPUs (x86 VNNI vs ARM NEON rounding paths);
        # a broken runtime scores far lower (chance is 10%), so half a point separates the two.
        "tolerance_pp": 0.5,
        "built_with": {"python": platform.python_version(), "tensorflow": tf.__version__,
                       "ai-edge-litert": metadata.version("ai-edge-litert"), "machine": platform.machine()},
        "rebuild": "python scripts/build_doctor_model.py",
    })
    print(f"{target} {len(data)} bytes, accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
