"""The TFLite export formats, as data: one table drives conversion, verification and benchmarks.

numpy only (no TensorFlow), so the edge runtime can iterate the same table on a Raspberry Pi.
Converter settings are names, not TensorFlow objects; `cnn_edge.converter.export` maps them
onto `tf.lite.TFLiteConverter` attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# --io choices for full-integer formats: the dtype of the model's input and output tensors.
IO_TYPES: dict[str, np.dtype] = {
    "int8": np.dtype(np.int8),
    "uint8": np.dtype(np.uint8),
    "float32": np.dtype(np.float32),
}
DEFAULT_IO = "int8"

# Tensor dtypes allowed inside a fully integer model (int32 holds biases and shapes).
INTEGER_DTYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.int32),
                  np.dtype(np.int64))


@dataclass(frozen=True)
class ConverterSettings:
    """How to set up `tf.lite.TFLiteConverter` for one format (all names, no TF objects).

    Fields:
        optimizations: names in `tf.lite.Optimize` (e.g. "DEFAULT").
        supported_types: dtype names for `target_spec.supported_types` (e.g. "float16").
        supported_ops: names in `tf.lite.OpsSet` for `target_spec.supported_ops`; empty keeps
            TensorFlow's default (builtins, with float fallback).
        representative_dataset: feed calibration images (full-integer quantization needs them).
        io_type_option: the input/output tensor dtypes follow `--io` (int8, uint8 or float32).
    """

    optimizations: tuple[str, ...] = ()
    supported_types: tuple[str, ...] = ()
    supported_ops: tuple[str, ...] = ()
    representative_dataset: bool = False
    io_type_option: bool = False


@dataclass(frozen=True)
class ExportFormat:
    """One TFLite flavour: what it is called, where it goes, and how it is made and checked."""

    name: str
    filename: str
    description: str
    needs_calibration: bool
    fully_integer: bool
    settings: ConverterSettings = field(default_factory=ConverterSettings)


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat(
        name="float32",
        filename="model_float32.tflite",
        description="float32 weights and activations (the reference)",
        needs_calibration=False,
        fully_integer=False,
    ),
    ExportFormat(
        name="float16",
        filename="model_float16.tflite",
        description="float16 weights, float32 compute (half the size, same accuracy)",
        needs_calibration=False,
        fully_integer=False,
        settings=ConverterSettings(optimizations=("DEFAULT",), supported_types=("float16",)),
    ),
    ExportFormat(
        name="dynamic",
        filename="model_dynamic.tflite",
        description="dynamic-range: int8 weights, float input/output, activations quantized on the fly",
        needs_calibration=False,
        fully_integer=False,
        settings=ConverterSettings(optimizations=("DEFAULT",)),
    ),
    ExportFormat(
        name="int8",
        filename="model_int8.tflite",
        description="full-integer int8 weights and activations, calibrated, no float fallback",
        needs_calibration=True,
        fully_integer=True,
        settings=ConverterSettings(
            optimizations=("DEFAULT",),
            supported_ops=("TFLITE_BUILTINS_INT8",),
            representative_dataset=True,
            io_type_option=True,
        ),
    ),
)

BY_NAME: dict[str, ExportFormat] = {f.name: f for f in FORMATS}
REFERENCE = "float32"  # every conversion writes it; accuracy losses are measured against it


def get_format(name: str) -> ExportFormat:
    """The format called `name` (KeyError names the known ones)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown format {name!r}; known: {', '.join(BY_NAME)}") from None
