"""The one TFLite interpreter loader, and the quantize/dequantize helpers.

Backends, tried in this order unless one is forced:
- `litert`: `ai_edge_litert.interpreter` (Google's successor of tflite-runtime);
- `tflite-runtime`: `tflite_runtime.interpreter` (the name many Raspberry Pi guides use).
TensorFlow's own `tf.lite.Interpreter` is deliberately not a backend: the Pi install has
no TensorFlow and this package must never import it (a test checks).

Quantization is read from the model's own tensor details, so the same code serves float32,
int8 and uint8 inputs and outputs without a manifest.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np

from cnn_edge.common.errors import BackendError, ConfigError, ModelError
from cnn_edge.common.limits import check_threads
from cnn_edge.common.platform import usable_cores
from cnn_edge.common.quiet import native_stderr_silenced
from cnn_edge.edge_runtime.model_check import check_manifest as check_manifest_sha256
from cnn_edge.edge_runtime.model_check import check_model_bytes

IMAGE_SHAPE = (28, 28)
_UINT8 = np.dtype(np.uint8)
NUM_CLASSES = 10

# backend name -> (module with `Interpreter`, distribution that provides it)
BACKENDS: dict[str, tuple[str, str]] = {
    "litert": ("ai_edge_litert.interpreter", "ai-edge-litert"),
    "tflite-runtime": ("tflite_runtime.interpreter", "tflite-runtime"),
}
INSTALL_HINT = (
    "install one: `pip install ai-edge-litert` (64-bit Linux/macOS, any Python >= 3.10) "
    "or `pip install tflite-runtime 'numpy<2'` (Python <= 3.11, also 32-bit ARM)"
)


@dataclass(frozen=True)
class QuantParams:
    """Affine quantization of one tensor: real = scale * (q - zero_point). scale 0 means float."""

    dtype: np.dtype
    scale: float
    zero_point: int

    @property
    def is_quantized(self) -> bool:
        return self.scale != 0.0 and np.issubdtype(self.dtype, np.integer)

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> QuantParams:
        scale, zero_point = detail.get("quantization", (0.0, 0))
        return cls(np.dtype(detail["dtype"]), float(scale), int(zero_point))


def quantize(x: np.ndarray, q: QuantParams) -> np.ndarray:
    """Turn real values into the tensor's dtype: round to nearest and clip to its range."""
    if not q.is_quantized:
        return np.asarray(x, dtype=q.dtype)
    info = np.iinfo(q.dtype)
    scaled = np.round(np.asarray(x, dtype=np.float32) / q.scale) + q.zero_point
    return np.clip(scaled, info.min, info.max).astype(q.dtype)


def dequantize(x: np.ndarray, q: QuantParams) -> np.ndarray:
    """Turn the tensor's stored values back into real float32 values."""
    if not q.is_quantized:
        return np.asarray(x, dtype=np.float32)
    return (q.scale * (np.asarray(x, dtype=np.float32) - q.zero_point)).astype(np.float32)


def pixel_table(q: QuantParams) -> bytes | None:
    """Every uint8 pixel value's quantized byte (via `quantize`), for `bytes.translate`.

    An 8-bit input takes one of 256 pixel values to one of 256 codes: a 256-byte table does the
    whole 28x28 conversion in one C call, without numpy's per-call dispatch (which costs more,
    between two invokes, than the conversion itself). None for a float or wider input.
    """
    if q.dtype.itemsize != 1:
        return None
    return quantize(np.arange(256, dtype=np.float32), q).view(np.uint8).tobytes()


# Past this, exp() of the smallest logit relative to the largest underflows towards 0 (~1e-304).
_SOFTMAX_TABLE_SPAN = 700.0


def softmax_table(q: QuantParams) -> list[float] | None:
    """exp(logit - largest possible logit) for each output byte (via `dequantize`); None if not 8-bit.

    Softmax does not change when every logit moves by the same amount, so for an 8-bit quantized
    output softmax(dequantize(raw)) == table[byte] / sum(table[bytes]): no numpy call per image.
    Indexed by the raw byte (an int8 code -1 is byte 255). None when the output is not 8-bit
    quantized, or its span is so wide that the table would underflow.
    """
    if not (q.is_quantized and q.dtype.itemsize == 1):
        return None
    logits = dequantize(np.arange(256, dtype=np.uint8).view(q.dtype), q).astype(np.float64)
    if logits.max() - logits.min() > _SOFTMAX_TABLE_SPAN:
        return None
    return np.exp(logits - logits.max()).tolist()


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over the last axis."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def available_backends() -> dict[str, str]:
    """Map each importable backend to its version; failures map to the reason (for `doctor`)."""
    found: dict[str, str] = {}
    for name, (module, dist) in BACKENDS.items():
        try:
            importlib.import_module(module)
            found[name] = _dist_version(dist)
        except Exception as exc:  # ImportError, or a numpy ABI error raised at import
            found[name] = f"unavailable: {type(exc).__name__}: {exc}"
    return found


def _dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _import_backend(backend: str) -> tuple[str, Any]:
    names = list(BACKENDS) if backend == "auto" else [backend]
    if backend != "auto" and backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}", hint=f"choose one of: auto, {', '.join(BACKENDS)}")
    errors = []
    for name in names:
        module, _ = BACKENDS[name]
        try:
            return name, importlib.import_module(module).Interpreter
        except Exception as exc:
            errors.append(f"{name}: {type(exc).__name__}")
    raise BackendError(f"no TFLite interpreter could be imported ({'; '.join(errors)})", hint=INSTALL_HINT)


class TfliteModel:
    """A loaded, validated classifier: raw 28x28 pixels in (0-255, white digit on black), 10 logits out."""

    def __init__(self, interpreter: Any, path: Path, backend: str, threads: int) -> None:
        self.interpreter = interpreter
        self.path = path
        self.backend = backend
        self.backend_version = _dist_version(BACKENDS[backend][1])
        self.threads = threads
        self._batch = 1
        self._refresh_details()
        # `invoke_pixels`' input: one batch-1 tensor, reused for every image.
        self._pixel_table = pixel_table(self.input_quant)
        self._one_input = np.zeros((1, *self.input_detail["shape"][1:]), self.input_quant.dtype)
        self._one_input_bytes = memoryview(self._one_input).cast("B")
        # The same memory seen as 28x28 (None for a wrong-shaped model, rejected after loading).
        one_28x28 = self._one_input.size == IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
        self._one_input_pixels = self._one_input.reshape(IMAGE_SHAPE) if one_28x28 else None

    def _refresh_details(self) -> None:
        self.input_detail = self.interpreter.get_input_details()[0]
        self.output_detail = self.interpreter.get_output_details()[0]
        self.input_quant = QuantParams.from_detail(self.input_detail)
        self.output_quant = QuantParams.from_detail(self.output_detail)
        self._input_index = int(self.input_detail["index"])
        self._output_index = int(self.output_detail["index"])

    @property
    def input_dtype(self) -> np.dtype:
        return self.input_quant.dtype

    def _resize(self, batch: int) -> None:
        if batch == self._batch:
            return
        shape = list(self.input_detail["shape"])
        shape[0] = batch
        with native_stderr_silenced():
            self.interpreter.resize_tensor_input(self.input_detail["index"], shape)
            self.interpreter.allocate_tensors()
        self._batch = batch
        self._refresh_details()

    def prepare_input(self, images: np.ndarray) -> np.ndarray:
        """Raw pixels (N, 28, 28) any numeric dtype -> the model's input tensor (quantized if needed)."""
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        if images.shape[1:] != IMAGE_SHAPE:
            raise ModelError(f"input images have shape {images.shape[1:]}, the model takes {IMAGE_SHAPE}")
        x = images.astype(np.float32).reshape((len(images), *self.input_detail["shape"][1:]))
        return quantize(x, self.input_quant)

    def invoke_prepared(self, tensor: np.ndarray) -> np.ndarray:
        """Set an already-prepared input tensor, invoke, and return the raw output tensor (a copy)."""
        self._resize(len(tensor))
        self.interpreter.set_tensor(self.input_detail["index"], tensor)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_detail["index"]).copy()

    def prepare_one(self, image: np.ndarray) -> np.ndarray:
        """One raw-pixel 28x28 image -> the model's batch-1 input tensor, as cheaply as possible.

        The common cases skip the generic float round trip: uint8 pixels into an 8-bit input
        are looked up in `pixel_table` (the same codes `quantize` gives); into a float32
        input, a cast.
        """
        image = np.asarray(image)
        shape = self._one_input.shape
        if image.dtype == np.uint8 and image.shape == IMAGE_SHAPE:
            if self._pixel_table is not None:
                coded = image.tobytes().translate(self._pixel_table)
                return np.frombuffer(coded, self.input_dtype).reshape(shape)
            if self.input_dtype == np.float32:
                return image.astype(np.float32).reshape(shape)
        return self.prepare_input(image[None] if image.ndim == 2 else image)

    def invoke_pixels(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """`invoke_one(prepare_one(image))` for one 28x28 image, with the least work between invokes.

        The camera's per-frame path, where every Python step between two invokes counts (each
        costs several times what it does in a tight loop of its own). An 8-bit model's input is
        coded with `bytes.translate` straight into a buffer kept for the purpose: no numpy call,
        no new array; a float32 input is cast into that buffer. The interpreter's own input
        tensor is not written through a view: LiteRT refuses to invoke while such a view is
        alive, and getting one per image costs about what the `set_tensor` copy does. Returns
        the raw output in the interpreter's shape (10 values) and the seconds of set + invoke + get.
        """
        # `is`: numpy's own uint8 descriptor, ~4x cheaper to check than `== np.uint8`; any
        # other array (even an odd uint8 one) just takes the generic way.
        if image.dtype is not _UINT8 or image.shape != IMAGE_SHAPE or self._batch != 1:
            return self.invoke_one(self.prepare_one(image))
        if self._pixel_table is not None:
            self._one_input_bytes[:] = image.tobytes().translate(self._pixel_table)
        elif self._one_input.dtype == np.float32:
            np.copyto(self._one_input_pixels, image)  # the cast `prepare_one` makes, in place
        else:
            return self.invoke_one(self.prepare_one(image))
        interp = self.interpreter
        t0 = perf_counter()
        interp.set_tensor(self._input_index, self._one_input)
        interp.invoke()
        raw = interp.get_tensor(self._output_index)
        return raw, perf_counter() - t0

    def invoke_one(self, tensor: np.ndarray) -> tuple[np.ndarray, float]:
        """Set a batch-1 input, invoke, read the output: (raw output (10,), seconds those three took)."""
        if self._batch != 1:
            self._resize(1)
        interp = self.interpreter
        t0 = perf_counter()
        interp.set_tensor(self._input_index, tensor)
        interp.invoke()
        raw = interp.get_tensor(self._output_index)
        elapsed = perf_counter() - t0
        return raw.reshape(-1), elapsed

    def logits(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Float logits (N, 10) for raw-pixel images (N, 28, 28), dequantized from the model's output."""
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        out = []
        for start in range(0, len(images), batch_size):
            raw = self.invoke_prepared(self.prepare_input(images[start : start + batch_size]))
            out.append(dequantize(raw, self.output_quant).reshape(-1, NUM_CLASSES))
        if not out:
            return np.zeros((0, NUM_CLASSES), np.float32)
        logits = np.concatenate(out)
        bad = int(np.count_nonzero(~np.isfinite(logits).all(axis=1)))
        if bad:  # a NaN would otherwise argmax to a class and count as a prediction
            raise ModelError(
                f"{self.path} gives non-finite outputs (NaN or infinity) for {bad} of {len(logits)} images",
                hint="the model's weights are damaged: " + _RECONVERT,
            )
        return logits

    def predict(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Predicted class per image (N,)."""
        return self.logits(images, batch_size).argmax(axis=1)

    def all_tensor_dtypes(self) -> list[tuple[str, np.dtype]]:
        """(name, dtype) of every tensor in the graph, for the int8 'fully integer' check."""
        return [(t["name"], np.dtype(t["dtype"])) for t in self.interpreter.get_tensor_details()]


def load_model(
    path: str | os.PathLike[str], *, backend: str = "auto", threads: int | None = None,
    check_manifest: bool = True,
) -> TfliteModel:
    """Load a .tflite classifier and check it is 28x28 in, 10 classes out; errors say what to do.

    The file's bytes are checked before the interpreter sees them (`model_check`): a corrupt
    model must be one line, not a native crash. `check_manifest=False` skips the sha256 check
    against a manifest.json beside it (the converter verifies a model before its new manifest
    replaces the old one).
    """
    path = Path(path)
    check_threads(threads)  # every command that loads a model: a huge count overflows a C int
    data = _read_model(path)
    if check_manifest:  # first: a flipped bit anywhere says "does not match", the clearest diagnosis
        check_manifest_sha256(data, path)
    check_model_bytes(data, path)
    name, interpreter_cls = _import_backend(backend)
    n_threads = threads or usable_cores()
    try:
        with native_stderr_silenced():
            # The bytes just checked, not the path again: what runs is what was checked.
            interpreter = interpreter_cls(model_content=data, num_threads=n_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"{path} is not a valid TFLite model ({first_line(exc)})", hint=_RECONVERT) from exc
    except (SystemError, AttributeError, ImportError) as exc:
        # tflite-runtime 2.14 (the last release) is built against numpy 1.x: with numpy 2 it
        # imports, then fails here ("_ARRAY_API not found", "compiled using NumPy 1.x").
        if name == "tflite-runtime" and _numpy_major() >= 2:
            raise BackendError(
                f"tflite-runtime {_dist_version(BACKENDS[name][1])} was built for numpy 1.x and cannot "
                f"create an interpreter with numpy {np.__version__}",
                hint="pip install 'numpy<2' (or, on 64-bit systems, pip install ai-edge-litert)",
            ) from exc
        raise
    _check_details(interpreter, path)
    model = TfliteModel(interpreter, path, name, n_threads)
    _check_signature(model)
    _first_invoke(model)
    return model


_RECONVERT = "convert it again with `cnn-edge convert`"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type name when the message is empty."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _read_model(path: Path) -> bytes:
    if not path.is_file():
        raise ModelError(
            f"model not found: {path}", hint="pass --model with a .tflite file (see `cnn-edge convert`)"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read model {path} ({exc.strerror or exc})") from None
    if not data:
        raise ModelError(f"model file is empty: {path}", hint=_RECONVERT)
    return data


def _check_details(interpreter: Any, path: Path) -> None:
    """The interpreter's own view: one input and one output (the bytes were checked, this is cheap)."""
    n_in, n_out = len(interpreter.get_input_details()), len(interpreter.get_output_details())
    if n_in != 1 or n_out != 1:
        raise ModelError(f"{path} has {n_in} inputs and {n_out} outputs, expected 1 and 1", hint=_RECONVERT)


def _first_invoke(model: TfliteModel) -> None:
    """Invoke once on a blank input: XNNPACK refuses some damaged graphs only at the first invoke."""
    try:
        with native_stderr_silenced():
            model.invoke_one(np.zeros(model._one_input.shape, model.input_dtype))
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"{model.path} cannot run ({first_line(exc)})", hint=_RECONVERT) from exc


def _numpy_major() -> int:
    try:
        return int(np.__version__.split(".")[0])
    except ValueError:
        return 0


def _check_signature(model: TfliteModel) -> None:
    in_shape = tuple(int(d) for d in model.input_detail["shape"])
    out_shape = tuple(int(d) for d in model.output_detail["shape"])
    if len(model.interpreter.get_input_details()) != 1 or in_shape[1:] not in ((28, 28), (28, 28, 1)):
        raise ModelError(
            f"{model.path} takes input of shape {in_shape}, expected (1, 28, 28)",
            hint="cnn-edge runs 28x28 digit classifiers made by `cnn-edge convert`",
        )
    if out_shape[-1] != NUM_CLASSES or int(np.prod(out_shape[1:])) != NUM_CLASSES:
        raise ModelError(
            f"{model.path} has output of shape {out_shape}, expected 10 classes",
            hint="cnn-edge runs 28x28 digit classifiers made by `cnn-edge convert`",
        )
