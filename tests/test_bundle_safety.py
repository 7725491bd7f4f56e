"""`cnn-edge bundle` on a damaged or tampered run: one clear line, never a traceback, only the run's files.

Issue 17 part A: each case was an attack that gave a traceback or packed a file it should not.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from cnn_edge.common.checksums import sha256_file
from cnn_edge.common.errors import RunDirError
from cnn_edge.deploy import BundleConfig, make_bundle

from .conftest import run_cli


@pytest.fixture()
def run(converted_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(converted_run, out)
    return out


def bundle(run: Path, out: Path):
    return run_cli("bundle", "--run", str(run), "--out", str(out))


def one_error_line(proc, needle: str, code: int = 1) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], proc.stderr


def edit_manifest(run: Path, change) -> None:
    doc = json.loads((run / "manifest.json").read_text())
    change(doc)
    (run / "manifest.json").write_text(json.dumps(doc))


def test_manifest_whose_models_is_a_number(run, tmp_path):
    edit_manifest(run, lambda d: d.update(models=7))
    one_error_line(bundle(run, tmp_path / "b.tar.gz"), "not a cnn-edge manifest")


@pytest.mark.parametrize("when", [-86_400 * 365, 2**33])  # 1969 and the year 2242
def test_manifest_dated_outside_1970_2106_is_packed(run, tmp_path, when):
    os.utime(run / "manifest.json", (when, when))
    proc = bundle(run, tmp_path / "b.tar.gz")
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        assert {m.mtime for m in tar.getmembers()} == {0 if when < 0 else 2**32 - 1}


def test_out_that_is_a_folder(run, tmp_path):
    folder = tmp_path / "out.tar.gz"
    folder.mkdir()
    one_error_line(bundle(run, folder), "is a folder", code=2)
    assert folder.is_dir() and not any(folder.iterdir())


def test_unreadable_model_file(run, tmp_path, monkeypatch):
    """As root every file is readable, so the read itself is made to fail as it does for a user."""
    import cnn_edge.deploy.bundle as b

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(b, "sha256_file", denied)
    with pytest.raises(RunDirError, match=r"cannot read .*model_float32.tflite \(Permission denied\)"):
        make_bundle(BundleConfig(run=run, out=tmp_path / "b.tar.gz"))
    assert not (tmp_path / "b.tar.gz").exists()


def test_symlinked_model_is_not_followed(run, tmp_path):
    outside = tmp_path / "elsewhere.tflite"
    shutil.move(run / "model_int8.tflite", outside)  # same bytes, so the checksum would match
    (run / "model_int8.tflite").symlink_to(outside)
    one_error_line(bundle(run, tmp_path / "b.tar.gz"), "symbolic link")
    assert not (tmp_path / "b.tar.gz").exists()


def test_manifest_listing_another_file_with_its_checksum(run, tmp_path):
    secret = run / "metrics.json"

    def point_at_secret(doc):
        doc["models"][1].update(file=secret.name, sha256=sha256_file(secret))

    edit_manifest(run, point_at_secret)
    one_error_line(bundle(run, tmp_path / "b.tar.gz"), "which convert writes as model_int8.tflite")
