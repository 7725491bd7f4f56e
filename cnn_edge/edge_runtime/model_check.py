"""Check a .tflite file's bytes before any interpreter touches them.

LiteRT and tflite-runtime trust the model: an input tensor whose type byte was flipped from
INT8 to COMPLEX64 prints a wrong label and then aborts in `free()`, the neighbouring bit
segfaults, and some corrupt files hang. None of that can be caught from Python, so the parts
of the TFLite schema the runtime relies on are read here first (with `flatbuffer`, bounds
checked) and a model that is not a 28x28-in, 10-classes-out classifier with float32, int8 or
uint8 input and output is refused with one line. Where a `manifest.json` written by
`cnn-edge convert` sits beside the model and lists it, its sha256 must match: that catches a
flipped bit anywhere, not just in the header. Costs (measured in docs/reliability.md): the
parse is tens of microseconds; the sha256 about 1 ms per MB.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cnn_edge.common.errors import ModelError
from cnn_edge.edge_runtime.flatbuffer import FlatbufferError, Table, root

MANIFEST = "manifest.json"
_HINT = "convert it again with `cnn-edge convert` (or copy it again)"
_SHAPE_HINT = "cnn-edge runs 28x28 digit classifiers made by `cnn-edge convert`"

# TFLite TensorType codes (schema.fbs) the runtime can feed and read.
IO_TYPES = {0: "float32", 3: "uint8", 9: "int8"}
TYPE_NAMES = ("float32", "float16", "int32", "uint8", "int64", "string", "bool", "int16", "complex64",
              "int8", "float64", "complex128", "uint64", "resource", "variant", "uint32", "uint16",
              "int4", "bfloat16")
# Codes no tensor of a digit classifier has; the interpreter mishandles them in a corrupt file.
_EXOTIC_TYPES = {5, 8, 11, 13, 14}

# Field indices in the TFLite schema (tensorflow/lite/schema/schema.fbs).
_MODEL_VERSION, _MODEL_SUBGRAPHS, _MODEL_BUFFERS = 0, 2, 4
_SG_TENSORS, _SG_INPUTS, _SG_OUTPUTS = 0, 1, 2
_T_SHAPE, _T_TYPE, _T_BUFFER = 0, 1, 2


@dataclass(frozen=True)
class ModelHeader:
    """What the file says about its one input and one output, before an interpreter loads it."""

    input_shape: tuple[int, ...]
    input_type: str
    output_shape: tuple[int, ...]
    output_type: str


def check_model_bytes(data: bytes, path: Path) -> ModelHeader:
    """Refuse bytes the interpreter could crash or hang on; `ModelError` with one line."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(f"{path} is not a valid TFLite model (no TFL3 identifier)", hint=_HINT)
    try:
        return _check(data, path)
    except FlatbufferError as exc:
        raise ModelError(f"{path} is not a valid TFLite model (damaged: {exc})", hint=_HINT) from None


def _check(data: bytes, path: Path) -> ModelHeader:
    model = root(data)
    version = model.scalar(_MODEL_VERSION, "<I", 0)
    if version != 3:
        raise ModelError(f"{path} has TFLite schema version {version}, expected 3", hint=_HINT)
    subgraphs = model.tables(_MODEL_SUBGRAPHS)
    if not subgraphs:
        raise ModelError(f"{path} has no subgraph", hint=_HINT)
    graph = subgraphs[0]
    tensors = graph.tables(_SG_TENSORS)
    n_buffers = model.length(_MODEL_BUFFERS)
    for i, tensor in enumerate(tensors):
        _check_tensor(tensor, i, n_buffers, path)
    inputs = graph.ints(_SG_INPUTS) or []
    outputs = graph.ints(_SG_OUTPUTS) or []
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(
            f"{path} has {len(inputs)} inputs and {len(outputs)} outputs, expected 1 and 1", hint=_SHAPE_HINT
        )
    if not all(0 <= i < len(tensors) for i in (*inputs, *outputs)):
        raise ModelError(f"{path} is not a valid TFLite model (input or output out of range)", hint=_HINT)
    header = ModelHeader(*_io(tensors[inputs[0]], "input", path), *_io(tensors[outputs[0]], "output", path))
    _check_shapes(header, path)
    return header


def _check_tensor(tensor: Table, index: int, n_buffers: int, path: Path) -> None:
    code = tensor.scalar(_T_TYPE, "<b", 0)
    if not 0 <= code < len(TYPE_NAMES) or code in _EXOTIC_TYPES:
        damage = f"tensor {index} has type {_type_name(code)}"
    elif tensor.scalar(_T_BUFFER, "<I", 0) >= max(n_buffers, 1):
        damage = f"tensor {index} has no buffer"
    else:
        return
    raise ModelError(f"{path} is not a valid TFLite model (damaged: {damage})", hint=_HINT)


def _io(tensor: Table, role: str, path: Path) -> tuple[tuple[int, ...], str]:
    code = tensor.scalar(_T_TYPE, "<b", 0)
    if code not in IO_TYPES:
        raise ModelError(
            f"{path} has an {role} of type {_type_name(code)}; the runtime takes float32, int8 or uint8",
            hint=_HINT,
        )
    return tuple(tensor.ints(_T_SHAPE) or ()), IO_TYPES[code]


def _type_name(code: int) -> str:
    return TYPE_NAMES[code] if 0 <= code < len(TYPE_NAMES) else f"code {code} (unknown)"


def _check_shapes(header: ModelHeader, path: Path) -> None:
    shape_in, shape_out = header.input_shape, header.output_shape
    if shape_in not in ((1, 28, 28), (1, 28, 28, 1)):
        raise ModelError(f"{path} takes input of shape {shape_in}, expected (1, 28, 28)", hint=_SHAPE_HINT)
    if len(shape_out) < 2 or shape_out[0] != 1 or shape_out[-1] != 10 or set(shape_out[1:-1]) - {1}:
        raise ModelError(f"{path} has output of shape {shape_out}, expected 10 classes", hint=_SHAPE_HINT)


def check_manifest(data: bytes, path: Path) -> None:
    """If a manifest.json beside `path` lists this file, its sha256 must match the bytes."""
    expected = manifest_sha256(path)
    if expected is None:
        return
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelError(
            f"{path}: this model does not match its manifest (sha256 {actual[:12]}..., "
            f"{MANIFEST} says {expected[:12]}...); the file is damaged or was replaced",
            hint="copy the run again (`cnn-edge deploy` verifies every file) or convert it again with "
            "`cnn-edge convert`",
        )


def manifest_sha256(path: Path) -> str | None:
    """The sha256 the manifest beside `path` records for it; None without one (or unreadable)."""
    try:
        manifest = json.loads((path.parent / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # no manifest (a model copied on its own) is the common, legitimate case
    models = manifest.get("models") if isinstance(manifest, dict) else None
    for entry in models if isinstance(models, list) else []:
        if isinstance(entry, dict) and entry.get("file") == path.name:
            sha = entry.get("sha256")
            return sha if isinstance(sha, str) else None
    return None
