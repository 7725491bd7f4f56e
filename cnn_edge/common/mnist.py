"""Find and load MNIST in Keras' `mnist.npz` layout, checking it is what it claims to be.

Lookup order (first that exists wins):
1. an explicit path (`--data PATH`),
2. the `CNN_EDGE_DATA` environment variable,
3. the repository's own `data/mnist.npz`, when running from a checkout,
4. Keras' cache (`~/.keras/datasets/mnist.npz`), downloading it there if TensorFlow is
   installed and the machine is online.
Only numpy is needed for 1-3, so the edge runtime and the calibration builder can use it too.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn_edge.common.errors import DataError
from cnn_edge.common.npz import npz_problem

ENV_VAR = "CNN_EDGE_DATA"
REPO_DATA = Path(__file__).resolve().parents[2] / "data" / "mnist.npz"
KERAS_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"

# key -> (shape after the first axis, dtype); the first axis is the number of examples.
EXPECTED = {
    "x_train": ((28, 28), np.uint8),
    "y_train": ((), np.uint8),
    "x_test": ((28, 28), np.uint8),
    "y_test": ((), np.uint8),
}


@dataclass(frozen=True)
class Mnist:
    """MNIST as uint8 arrays: images (N, 28, 28) with white digits on black, labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: Path


def find_mnist(path: str | os.PathLike[str] | None = None, *, allow_download: bool = True) -> Path:
    """Return the path of `mnist.npz` following the lookup order in the module docstring."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise DataError(f"data file not found: {p}", hint="pass --data with the path of an mnist.npz")
        return p
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise DataError(
                f"{ENV_VAR}={env} is not a file", hint=f"point {ENV_VAR} at an mnist.npz or unset it"
            )
        return p
    if REPO_DATA.is_file():
        return REPO_DATA
    if KERAS_CACHE.is_file():
        return KERAS_CACHE
    if allow_download:
        return _download_with_keras()
    raise DataError("no MNIST data found", hint=f"pass --data PATH to an mnist.npz or set {ENV_VAR}")


def _download_with_keras() -> Path:
    try:
        import keras  # noqa: PLC0415  (heavy; only here)
    except ImportError as exc:
        raise DataError(
            "no MNIST data found and TensorFlow/Keras is not installed to download it",
            hint=f"pass --data PATH to an mnist.npz or set {ENV_VAR}",
        ) from exc
    try:
        keras.datasets.mnist.load_data()
    except Exception as exc:  # network errors come in many types
        raise DataError(
            f"no MNIST data found and Keras could not download it ({type(exc).__name__})",
            hint=f"pass --data PATH to an mnist.npz or set {ENV_VAR}",
        ) from exc
    return KERAS_CACHE


def load_mnist(path: str | os.PathLike[str] | None = None, *, allow_download: bool = True) -> Mnist:
    """Load and validate MNIST; wrong keys, shapes or dtypes raise `DataError` naming what was expected."""
    source = find_mnist(path, allow_download=allow_download)
    try:
        with np.load(source, allow_pickle=False) as npz:
            missing = [k for k in EXPECTED if k not in npz.files]
            if missing:
                raise DataError(
                    f"{source} lacks {', '.join(missing)}",
                    hint="expected Keras' mnist.npz layout: x_train, y_train, x_test, y_test",
                )
            arrays = {k: npz[k] for k in EXPECTED}
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(
            f"cannot read {source} as .npz ({npz_problem(exc)})", hint="pass --data with a valid mnist.npz"
        ) from exc
    for key, (tail, dtype) in EXPECTED.items():
        arr = arrays[key]
        if arr.ndim != 1 + len(tail) or tuple(arr.shape[1:]) != tail or arr.dtype != dtype:
            want = (
                f"(N, {', '.join(map(str, tail))}) {np.dtype(dtype).name}"
                if tail
                else f"(N,) {np.dtype(dtype).name}"
            )
            raise DataError(
                f"{source}: {key} has shape {arr.shape} dtype {arr.dtype}, expected {want}",
                hint="use Keras' mnist.npz layout",
            )
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise DataError(f"{source}: x_{split} and y_{split} differ in length")
        if arrays[f"y_{split}"].size and arrays[f"y_{split}"].max() > 9:
            raise DataError(f"{source}: y_{split} has labels above 9", hint="labels must be digits 0-9")
    return Mnist(**arrays, source=source)
