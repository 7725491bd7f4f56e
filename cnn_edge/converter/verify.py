"""Check a written TFLite model in LiteRT (the runtime the Pi uses) and measure it.

A model that fails a check raises ModelError: a broken or float-fallback model never ships.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnn_edge.common.errors import ModelError
from cnn_edge.common.formats import INTEGER_DTYPES, IO_TYPES, ExportFormat
from cnn_edge.edge_runtime.interpreter import TfliteModel, load_model


def expected_io_dtype(fmt: ExportFormat, io: str) -> np.dtype:
    """The input/output dtype the format promises: `--io` for full-integer formats, else float32."""
    return IO_TYPES[io] if fmt.settings.io_type_option else np.dtype(np.float32)


def float_tensors_inside(model: TfliteModel) -> list[str]:
    """Names of non-integer tensors other than the model's own input and output."""
    boundary = {model.input_detail["index"], model.output_detail["index"]}
    return [t["name"] for t in model.interpreter.get_tensor_details()
            if t["index"] not in boundary and np.dtype(t["dtype"]) not in INTEGER_DTYPES]


def verify(path: Path, fmt: ExportFormat, io: str, display_name: str | None = None) -> TfliteModel:
    """Load `path` in LiteRT and check shape (by the loader), io dtypes and, if promised, full integer.

    `display_name` names the file in errors (the path may be a temporary file beside it).
    """
    model = load_model(path, threads=None, check_manifest=False)  # the old manifest may still be there
    name = display_name or path.name
    want = expected_io_dtype(fmt, io)
    got = (model.input_quant.dtype, model.output_quant.dtype)
    if got != (want, want):
        raise ModelError(f"{name}: input/output dtypes are {got[0]}/{got[1]}, expected {want}",
                         hint="report this: the converter did not honour the format's settings")
    if fmt.fully_integer:
        floats = float_tensors_inside(model)
        if floats:
            raise ModelError(f"{name} is not fully integer: {len(floats)} float tensors "
                             f"(first: {floats[0]})", hint="some operator fell back to float")
        if want != np.float32 and not model.input_quant.is_quantized:
            raise ModelError(f"{name}: integer input without quantization parameters")
    return model


def accuracy(model: TfliteModel, images: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """(accuracy, predictions) of a LiteRT model on raw-pixel images."""
    pred = model.predict(images, batch_size=500)
    return float((pred == labels).mean()), pred
