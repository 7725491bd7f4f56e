"""The Keras row: model.keras served as a TensorFlow SavedModel (imported only when installed)."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def tensorflow_available() -> bool:
    """True when `import tensorflow` would work (a blocked or missing module says no)."""
    import sys

    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"] is not None
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


class SavedModelRunner:
    """model.keras exported to a SavedModel and called through its `serve` signature.

    That is how a TensorFlow deployment calls a model (a traced graph, not eager Keras),
    so the comparison with TFLite is against TensorFlow's fast path.
    """

    def __init__(self, keras_path: Path) -> None:
        from cnn_edge.converter.export import export_saved_model, import_tensorflow, load_keras_model

        self.tf = import_tensorflow()
        model = load_keras_model(keras_path)
        self._tmp = tempfile.TemporaryDirectory(prefix="cnn-edge-savedmodel-")
        saved = export_saved_model(model, Path(self._tmp.name) / "saved")
        self.loaded = self.tf.saved_model.load(str(saved))
        self.serve = self.loaded.serve

    def logits(self, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
        out = [self.serve(self.tf.constant(images[i:i + batch_size].astype(np.float32))).numpy()
               for i in range(0, len(images), batch_size)]
        return np.concatenate(out).reshape(len(images), -1)

    def single_call(self, image: np.ndarray) -> Callable[[], Any]:
        x = self.tf.constant(image[None].astype(np.float32))
        return lambda: self.serve(x).numpy()

    def batch_call(self, images: np.ndarray) -> Callable[[], Any]:
        x = self.tf.constant(images.astype(np.float32))
        return lambda: self.serve(x).numpy()

    def close(self) -> None:
        self._tmp.cleanup()
