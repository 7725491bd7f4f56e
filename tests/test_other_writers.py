"""Other writers' real handwriting: the shipped files, the writer split, and training on it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from cnn_edge.common import run_dir as rd
from cnn_edge.common.checksums import sha256_file
from cnn_edge.common.errors import ConfigError, DataError
from cnn_edge.trainer import other_writers as ow
from cnn_edge.trainer.config import TrainConfig
from tests.conftest import MNIST, REPO, run_cli

SHIPPED = REPO / "data" / "other_writers"


def _held_out_rows(name: str, fields: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Held-out (and validation) rows computed from the raw fields, independently of `ow._roles`."""
    if name == "optdigits":
        return np.flatnonzero(np.isin(fields["split"], [1, 3]))  # cv (validation), windep (test)
    if name == "pendigits":
        return np.flatnonzero(fields["writer"] >= 27)  # 27-29 validation, 30-43 test
    if name == "semeion":
        return np.flatnonzero(fields["cycle_block_inferred"] >= 4)  # 4 validation, 5 test
    return np.arange(n)  # mfeat: all


def _raw(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def test_shipped_files_load_and_match_their_checksums_and_readme() -> None:
    readme = (SHIPPED / "README.md").read_text()
    for name in ow.SETS:
        file = ow.FILES[name]
        assert sha256_file(SHIPPED / file) == ow.SHA256[file]
        assert f"{ow.SHA256[file]}  {file}" in readme, "README's sha256 list matches the loader's"
        ws = ow.load_set(name, SHIPPED)
        assert ws.x.dtype == np.uint8 and ws.x.ndim == 3 and len(ws) == len(ws.y) == len(ws.role)
        assert set(np.unique(ws.y)) == set(range(10))
    assert "CC BY 4.0" in readme and "Alpaydin" in readme and "Semeion" in readme and "Duin" in readme


def test_a_corrupted_or_missing_copy_is_one_clear_error(tmp_path, monkeypatch) -> None:
    shutil.copy(SHIPPED / "semeion.npz", tmp_path / "semeion.npz")
    data = bytearray((tmp_path / "semeion.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "semeion.npz").write_bytes(bytes(data))
    monkeypatch.setenv(ow.ENV_VAR, str(tmp_path))
    with pytest.raises(DataError, match="is not the shipped file") as err:
        ow.load_set("semeion")
    assert "\n" not in str(err.value) and "restore it" in str(err.value)
    with pytest.raises(DataError, match="not found"):
        ow.load_set("mfeat")


def test_split_holds_out_the_named_writers_and_trains_on_the_rest() -> None:
    for name in ow.SETS:
        ws = ow.load_set(name, SHIPPED)
        not_train = _held_out_rows(name, {**ws.fields}, len(ws))
        assert set(ws.indices("train")).isdisjoint(not_train)
        assert len(ws.indices("train")) + len(not_train) == len(ws)
    opt = ow.load_set("optdigits", SHIPPED)
    assert len(opt.indices("test")) == 1797 and len(np.unique(opt.fields["split"][opt.indices("train")])) == 2
    pen = ow.load_set("pendigits", SHIPPED)
    assert set(np.unique(pen.fields["writer"][pen.indices("test")])) == set(range(30, 44))
    sem = ow.load_set("semeion", SHIPPED)
    assert len(sem.indices("test")) == 398 and len(sem.indices("val")) == 399
    assert len(ow.load_set("mfeat", SHIPPED).indices("test")) == 2000


def _subset(name: str, rows: np.ndarray, out: Path) -> None:
    """A small copy of a set (every field sliced to `rows`; pendigits' trajectories re-indexed)."""
    raw = _raw(SHIPPED / ow.FILES[name])
    n = len(raw["y"])
    sub = {k: (v[rows] if v.shape[:1] == (n,) else v) for k, v in raw.items()}
    if name == "pendigits":
        offsets = raw["traj_offsets"]
        points = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in rows])
        sub["traj_xy"], sub["traj_stroke"] = raw["traj_xy"][points], raw["traj_stroke"][points]
        sub["traj_offsets"] = np.concatenate([[0], np.cumsum(np.diff(offsets)[rows])])
    np.savez(out / ow.FILES[name], **sub)


@pytest.fixture()
def small_sets(tmp_path, monkeypatch) -> Path:
    """40 digits of each set (train, validation and held-out writers alike), checksums registered."""
    rng = np.random.default_rng(0)
    for name in ow.SETS:
        n = len(_raw(SHIPPED / ow.FILES[name])["y"])
        _subset(name, np.sort(rng.choice(n, 40, replace=False)), tmp_path)
        monkeypatch.setitem(ow.SHA256, ow.FILES[name], sha256_file(tmp_path / ow.FILES[name]))
    monkeypatch.setenv(ow.ENV_VAR, str(tmp_path))
    return tmp_path


def test_held_out_writers_never_reach_the_training_images(small_sets) -> None:
    from cnn_edge.trainer.training_set import extra_training_images

    extra = extra_training_images(TrainConfig(other_writers=ow.TRAINABLE, other_writer_copies=2, seed=3))
    for name in ow.TRAINABLE:
        fields = _raw(small_sets / ow.FILES[name])
        held = _held_out_rows(name, fields, len(fields["y"]))
        rows = extra.row[extra.source == name]
        assert len(held) > 0, "the sample must contain held-out writers for this check to mean anything"
        assert not set(rows) & set(held), f"held-out {name} writers reached the training images"
        train_rows = np.setdiff1d(np.arange(len(fields["y"])), held)
        assert set(rows) <= set(train_rows) and len(set(rows)) >= 0.9 * len(train_rows)
        np.testing.assert_array_equal(extra.y[extra.source == name], fields["y"][rows])
    assert extra.x.shape[1:] == (28, 28) and extra.x.dtype == np.uint8
    # MNIST-framed: the ink's centre of mass sits near the centre, the box within 20x20 (+1 rounding).
    ys, xs = np.nonzero(extra.x[0] > 0)
    assert ys.max() - ys.min() <= 21 and xs.max() - xs.min() <= 21
    again = extra_training_images(TrainConfig(other_writers=ow.TRAINABLE, other_writer_copies=2, seed=3))
    np.testing.assert_array_equal(extra.x, again.x)
    other = extra_training_images(TrainConfig(other_writers=ow.TRAINABLE, other_writer_copies=2, seed=4))
    assert not np.array_equal(extra.x, other.x), "another seed draws other pens"


def test_a_fine_tunes_rehearsal_draws_training_writers_only(small_sets) -> None:
    from cnn_edge.trainer.writer_images import sampled_training_images

    x, y, part, row = sampled_training_images(ow.TRAINABLE, 600, seed=5)
    assert len(y) >= 590 and x.shape[1:] == (28, 28)  # a pen variant with no digit found is left out
    for k, name in enumerate(ow.TRAINABLE):
        fields = _raw(small_sets / ow.FILES[name])
        held = _held_out_rows(name, fields, len(fields["y"]))
        rows = row[part == k]
        assert len(held) > 0 and len(rows) > 0
        assert not set(rows) & set(held), f"held-out {name} writers reached a fine-tune's rehearsal"
        train_rows = np.setdiff1d(np.arange(len(fields["y"])), held)
        assert set(rows) == set(train_rows)  # 600 draws of ~90 rows: every training row is drawn
        np.testing.assert_array_equal(y[part == k], fields["y"][rows])
    again = sampled_training_images(ow.TRAINABLE, 600, seed=5)
    np.testing.assert_array_equal(x, again[0])


def test_plain_training_adds_nothing_and_fonts_stay_as_they_were() -> None:
    from cnn_edge.trainer.font_digits import font_training_images
    from cnn_edge.trainer.training_set import extra_training_images

    assert len(extra_training_images(TrainConfig())) == 0
    fonts_only = extra_training_images(TrainConfig(font_digits=1, seed=5))
    x_font, _ = font_training_images(1, 5)
    np.testing.assert_array_equal(fonts_only.x, x_font)


def test_augmented_run_on_other_writers_trains_converts_and_repeats(small_sets, tmp_path) -> None:
    import keras

    from cnn_edge.trainer import train

    cfg = TrainConfig(out=tmp_path / "a", augment="camera", epochs=2, train_limit=300, validation_size=200,
                      data=MNIST, verbose=0, seed=2, other_writers=("optdigits", "pendigits"), font_digits=0,
                      other_writer_copies=2)
    result = train(cfg)
    metrics = json.loads((cfg.out / rd.METRICS).read_text())
    writers = metrics["other_writer_images"]
    assert set(writers) == {"optdigits", "pendigits"} and all(n > 0 for n in writers.values())
    assert metrics["train_images"] == 300 + sum(writers.values())
    assert metrics["config"]["other_writers"] == ["optdigits", "pendigits"]
    assert "windep" in metrics["other_writers_held_out"]["optdigits"]
    again = train(TrainConfig(**{**cfg.__dict__, "out": tmp_path / "b"}))
    for wa, wb in zip(keras.models.load_model(result.model_path).get_weights(),
                      keras.models.load_model(again.model_path).get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    proc = run_cli("convert", "--run", str(cfg.out), "--int8")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((cfg.out / "manifest.json").read_text())
    assert next(m for m in manifest["models"] if m["format"] == "int8")["accuracy"] > 0.3


def test_other_writer_copies_from_the_command_line(small_sets, tmp_path) -> None:
    from typer.testing import CliRunner

    from cnn_edge.cli import app

    out = tmp_path / "run"
    args = ["train", "--out", str(out), "--augment", "--epochs", "1", "--train-limit", "100",
            "--validation-size", "100", "--data", str(MNIST), "--font-digits", "0", "--quiet",
            "--other-writers", "semeion", "--other-writer-copies", "3"]
    result = CliRunner().invoke(app, args)  # in this process: the small sets' checksums hold here only
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / rd.METRICS).read_text())
    assert metrics["config"]["other_writer_copies"] == 3
    train_rows = len(ow.load_set("semeion").indices("train"))
    assert 0.9 * 3 * train_rows <= metrics["other_writer_images"]["semeion"] <= 3 * train_rows


def test_unknown_or_test_only_set_is_one_clear_line(tmp_path) -> None:
    from cnn_edge.trainer import train

    assert ow.parse_parts(" optdigits, PENDIGITS ") == ("optdigits", "pendigits")
    assert ow.parse_parts("none") == () and ow.parse_parts("") == ()
    with pytest.raises(ConfigError, match="mfeat is test-only"):
        train(TrainConfig(out=tmp_path / "x", other_writers=("mfeat",), data=MNIST))
    proc = run_cli("train", "--out", str(tmp_path / "run"), "--other-writers", "optdigits,usps")
    assert proc.returncode != 0 and re.search(r"unknown --other-writers set 'usps'", proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "run").exists()
