"""MNIST images shipped inside the package: a calibration set and the evaluation set (numpy only).

- `calibration.npz`: class-balanced training images for int8 calibration, stored round-robin
  by class (0, 1, ..., 9, 0, 1, ...) so that every prefix of a multiple of 10 is balanced.
  Drawn from the first 55,000 training images: the last 5,000 are `cnn-edge train`'s
  default holdout and stay untouched.
- `evaluation.npz`: the 10,000 MNIST test images with labels, for accuracy on the device.

Both hold `images` (N, 28, 28) uint8 raw pixels (white digit on black) and `labels` (N,) uint8.
`python -m cnn_edge.calibration_data.build` rebuilds them byte for byte from `mnist.npz`;
`checksums.json` records the sha256 of every file and array, and the loaders check them.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from cnn_edge.common.errors import DataError

HERE = Path(__file__).resolve().parent
CALIBRATION_FILE = HERE / "calibration.npz"
EVALUATION_FILE = HERE / "evaluation.npz"
CHECKSUMS_FILE = HERE / "checksums.json"


def array_sha256(*arrays: np.ndarray) -> str:
    """sha256 over the arrays' dtypes, shapes and C-order bytes (independent of the file format)."""
    h = hashlib.sha256()
    for arr in arrays:
        arr = np.ascontiguousarray(arr)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def checksums() -> dict:
    """The recorded checksums (file and array sha256 per shipped set)."""
    try:
        return json.loads(CHECKSUMS_FILE.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {CHECKSUMS_FILE} ({exc})",
                        hint="rebuild with `python -m cnn_edge.calibration_data.build`") from exc


def _load(path: Path, key: str, verify: bool) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            images, labels = npz["images"], npz["labels"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read shipped data {path} ({exc})",
                        hint="reinstall cnn-edge or run `python -m cnn_edge.calibration_data.build`") from exc
    if verify:
        expected = checksums().get(key, {}).get("arrays_sha256")
        if expected != array_sha256(images, labels):
            raise DataError(f"{path} does not match its recorded checksum",
                            hint="reinstall cnn-edge or run `python -m cnn_edge.calibration_data.build`")
    return images, labels


def load_calibration_set(verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels uint8 (N,)): class-balanced, round-robin by class."""
    return _load(CALIBRATION_FILE, "calibration", verify)


def load_evaluation_set(verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (10000, 28, 28), labels uint8 (10000,)): the MNIST test set, in order."""
    return _load(EVALUATION_FILE, "evaluation", verify)


__all__ = ["array_sha256", "checksums", "load_calibration_set", "load_evaluation_set"]
