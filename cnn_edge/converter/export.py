"""Keras model -> SavedModel -> TFLite bytes, one format at a time, driven by `cnn_edge.common.formats`.

`TFLiteConverter.from_keras_model` breaks with Keras 3, so the model is exported to a
SavedModel first (`model.export`) and converted from there.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common.errors import ConfigError, ModelError
from cnn_edge.common.formats import IO_TYPES, ExportFormat
from cnn_edge.common.quiet import native_stderr_silenced


def import_tensorflow() -> Any:
    """TensorFlow, imported quietly (its C++ start-up chatter goes straight to fd 2)."""
    with native_stderr_silenced():
        import tensorflow as tf
    return tf


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_keras_model(path: Path) -> Any:
    """Load a saved Keras model, turning every way it can be missing or broken into ModelError."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Keras model not found: {path}",
                         hint="train one with `cnn-edge train` or pass --model PATH")
    if path.stat().st_size == 0:
        raise ModelError(f"Keras model file is empty: {path}", hint="train it again with `cnn-edge train`")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ModelError(f"{path} is not a valid .keras file (not a zip archive)",
                         hint="train it again with `cnn-edge train`")
    import_tensorflow()
    import keras

    try:
        with native_stderr_silenced():
            model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a corrupt archive
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load Keras model {path} ({first[:200]})",
                         hint="train it again with `cnn-edge train`") from exc
    shape = tuple(model.inputs[0].shape)[1:] if model.inputs else ()
    if shape not in ((28, 28), (28, 28, 1)) or tuple(model.outputs[0].shape)[-1:] != (10,):
        raise ModelError(f"{path} takes {shape} and gives {tuple(model.outputs[0].shape)}, "
                         "expected 28x28 images in and 10 logits out",
                         hint="cnn-edge converts the MNIST digit classifiers made by `cnn-edge train`")
    return model


def export_saved_model(model: Any, directory: Path) -> Path:
    """Write `model` as a SavedModel (the conversion path that works with Keras 3)."""
    with native_stderr_silenced():
        model.export(str(directory), format="tf_saved_model", verbose=False)
    return directory


def representative_dataset(images: np.ndarray) -> Callable[[], Iterator[list[np.ndarray]]]:
    """One raw-pixel float32 image (1, 28, 28) per step, in a fixed order (deterministic calibration)."""

    def gen() -> Iterator[list[np.ndarray]]:
        for i in range(len(images)):
            yield [images[i : i + 1].astype(np.float32)]

    return gen


def make_converter(saved_model: Path, fmt: ExportFormat, io: str, calibration: np.ndarray | None) -> Any:
    """A `tf.lite.TFLiteConverter` configured from the format's settings (data, not code per format)."""
    tf = import_tensorflow()
    s = fmt.settings
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.optimizations = [getattr(tf.lite.Optimize, name) for name in s.optimizations]
    if s.supported_types:
        converter.target_spec.supported_types = [tf.dtypes.as_dtype(t) for t in s.supported_types]
    if s.supported_ops:
        converter.target_spec.supported_ops = [getattr(tf.lite.OpsSet, name) for name in s.supported_ops]
    if s.representative_dataset:
        if calibration is None or len(calibration) == 0:
            raise ConfigError(f"format {fmt.name} needs calibration images")
        converter.representative_dataset = representative_dataset(calibration)
    if s.io_type_option:
        if io not in IO_TYPES:
            raise ConfigError(f"unknown --io {io!r}", hint=f"choose one of: {', '.join(IO_TYPES)}")
        tf_type = tf.dtypes.as_dtype(IO_TYPES[io])
        converter.inference_input_type = tf_type
        converter.inference_output_type = tf_type
    return converter


def convert_format(saved_model: Path, fmt: ExportFormat, io: str, calibration: np.ndarray | None) -> bytes:
    """The TFLite flatbuffer of one format."""
    converter = make_converter(saved_model, fmt, io, calibration)
    try:
        with native_stderr_silenced():
            return bytes(converter.convert())
    except Exception as exc:  # converter errors are ConverterError/RuntimeError/ValueError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"TFLite conversion to {fmt.name} failed ({first[:200]})",
                         hint="the model may use an operator TFLite cannot quantize") from exc
