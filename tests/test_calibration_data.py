"""The shipped calibration and evaluation sets: contents, checksums, rebuild, no TensorFlow."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn_edge import calibration_data as cd
from cnn_edge.calibration_data import build
from cnn_edge.common.errors import DataError
from tests.conftest import MNIST


def test_calibration_set_is_class_balanced_in_every_prefix() -> None:
    images, labels = cd.load_calibration_set()
    assert images.dtype == np.uint8 and images.shape == (2000, 28, 28) and labels.shape == (2000,)
    assert len(images) >= 1000
    for n in (10, 100, 1000, 2000):
        assert np.bincount(labels[:n], minlength=10).tolist() == [n // 10] * 10
    assert images.max() == 255 and images.mean() < 80  # raw pixels, white digit on black


def test_evaluation_set_is_the_mnist_test_set() -> None:
    images, labels = cd.load_evaluation_set()
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    with np.load(MNIST) as mnist:
        assert np.array_equal(images, mnist["x_test"]) and np.array_equal(labels, mnist["y_test"])


def test_calibration_images_come_from_training_pool_not_holdout() -> None:
    images, _ = cd.load_calibration_set()
    with np.load(MNIST) as mnist:
        x_train = mnist["x_train"]
    idx = build.balanced_round_robin(mnist_labels(), build.PER_CLASS, build.SEED)
    assert idx.max() < build.POOL
    assert np.array_equal(images, x_train[idx])


def mnist_labels() -> np.ndarray:
    with np.load(MNIST) as mnist:
        return mnist["y_train"][: build.POOL]


def test_recorded_checksums_match_the_shipped_files() -> None:
    record = cd.checksums()
    for key in ("calibration", "evaluation"):
        rec = record[key]
        assert hashlib.sha256((cd.HERE / rec["file"]).read_bytes()).hexdigest() == rec["file_sha256"]
    images, labels = cd.load_evaluation_set()
    assert cd.array_sha256(images, labels) == record["evaluation"]["arrays_sha256"]
    assert record["source_mnist_sha256"] == hashlib.sha256(MNIST.read_bytes()).hexdigest()


def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    assert build.main(["--data", str(MNIST), "--out", str(tmp_path)]) == 0
    for name in ("calibration.npz", "evaluation.npz", "checksums.json"):
        assert (tmp_path / name).read_bytes() == (cd.HERE / name).read_bytes(), name
    assert build.main(["--data", str(MNIST), "--check"]) == 0


def test_tampered_file_fails_its_checksum(tmp_path: Path) -> None:
    images, labels = cd.load_calibration_set()
    images = images.copy()
    images[0, 0, 0] ^= 1
    (tmp_path / "calibration.npz").write_bytes(build.npz_bytes(images=images, labels=labels))
    with pytest.raises(DataError, match="checksum"):
        cd._load(tmp_path / "calibration.npz", "calibration", verify=True)
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="cannot read"):
        cd._load(tmp_path / "broken.npz", "calibration", verify=True)


def test_usable_without_tensorflow() -> None:
    code = ("import sys; from cnn_edge.calibration_data import load_calibration_set, load_evaluation_set;"
            "import cnn_edge.common.formats; load_calibration_set(); load_evaluation_set();"
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(json.dumps(bad))")
    out = subprocess.run([sys.executable, "-c", "import json;" + code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert json.loads(out.stdout) == []


def test_shipped_files_stay_small() -> None:
    assert cd.CALIBRATION_FILE.stat().st_size < 1_000_000
    assert cd.EVALUATION_FILE.stat().st_size < 3_000_000
