"""`cnn-edge finetune`: adapt tiny_run to other writers' photos, convert it, and refuse bad folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cnn_edge.common.errors import ConfigError, DataError
from cnn_edge.finetune import FinetuneConfig, finetune
from cnn_edge.testing import synthetic_photos as sp

from .conftest import MNIST, run_cli


@pytest.fixture(scope="module")
def sample_set(tmp_path_factory) -> Path:
    """20 photos per class of scikit-learn's writers (not MNIST), in the folders layout."""
    gs = sp.sklearn_glyphs()
    idx = np.concatenate([np.flatnonzero(gs.labels == d)[:20] for d in range(10)])
    out = tmp_path_factory.mktemp("samples") / "set"
    sp.make_photo_set(out, gs.take(idx), seed=3, layout="folders", frame_size=(320, 240))
    return out


def test_finetune_improves_holdout_and_converts_with_lineage(tmp_path, tiny_run, sample_set):
    out = tmp_path / "ft"
    res = run_cli("finetune", "--run", str(tiny_run), "--samples", str(sample_set), "--out", str(out),
                  "--data", str(MNIST), "--epochs", "20", "--quiet")
    assert res.returncode == 0, res.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    # 200 photos, a quarter of each class held out. A photo where the runtime finds no digit would
    # be left out of training rather than guessed at (none here since the paper estimate holds at
    # the image's edges; a small 5 under a shadow's rim at the top edge was one before).
    assert metrics["samples_without_digit"] <= 2
    assert metrics["samples_holdout"] == 50
    assert metrics["samples_train"] == 150 - metrics["samples_without_digit"]
    assert metrics["holdout_accuracy_after"] >= metrics["holdout_accuracy_before"] + 0.1
    assert metrics["frozen_layers"] == ["conv1", "conv2"]
    assert metrics["samples_augment"] == "light"  # the default recipe augments the samples
    lineage = metrics["lineage"]
    assert lineage["parent_run"] == str(tiny_run.resolve()) and len(lineage["samples_sha256"]) == 64
    for name in ("model.keras", "history.json", "training_curves.png"):
        assert (out / name).is_file()
    assert len(json.loads((out / "history.json").read_text())["val_accuracy"]) == 20

    conv = run_cli("convert", "--run", str(out), "--int8")
    assert conv.returncode == 0, conv.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source_model"]["lineage"] == lineage
    assert (out / "model_int8.tflite").is_file()
    assert not (tiny_run / "manifest.json").exists()  # the parent run is left as it was


def test_same_seed_same_result_and_sample_checksum(tmp_path, tiny_run, sample_set):
    runs = []
    for name in ("a", "b"):
        cfg = FinetuneConfig(run=tiny_run, samples=sample_set, out=tmp_path / name, epochs=2, data=MNIST)
        runs.append(finetune(cfg))
    # The augmented batches are seeded too: same seed, same weights.
    assert runs[0].holdout_after == runs[1].holdout_after and runs[0].mnist_after == runs[1].mnist_after
    lineages = [json.loads((r.run_dir / "metrics.json").read_text())["lineage"] for r in runs]
    assert lineages[0]["samples_sha256"] == lineages[1]["samples_sha256"]


def _copy_classes(src: Path, dst: Path, per_class: dict[str, int]) -> Path:
    for c, n in per_class.items():
        (dst / c).mkdir(parents=True)
        for f in sorted((src / c).iterdir())[:n]:
            shutil.copy(f, dst / c / f.name)
    return dst


@pytest.mark.parametrize("case", ["missing", "empty", "no_classes", "unlabelled", "unreadable", "too_few"])
def test_bad_sample_folders_are_clear_errors(tmp_path, tiny_run, sample_set, case):
    samples = tmp_path / "samples"
    expected = {
        "missing": "does not exist",
        "empty": "class folders are empty",
        "no_classes": "no class folders 0-9",
        "unlabelled": "no class folders: they have no labels",
        "unreadable": "unreadable sample image",
        "too_few": "too few samples",
    }[case]
    if case == "empty":
        for c in "0123456789":
            (samples / c).mkdir(parents=True)
    elif case == "no_classes":
        (samples / "cats").mkdir(parents=True)
    elif case == "unlabelled":
        samples.mkdir()
        shutil.copy(next((sample_set / "1").iterdir()), samples / "a.jpg")
    elif case == "unreadable":
        _copy_classes(sample_set, samples, {c: 6 for c in "0123456789"})
        (samples / "4" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    elif case == "too_few":
        _copy_classes(sample_set, samples, {"0": 6, "1": 3})
    out = tmp_path / "out"
    with pytest.raises(DataError, match=expected):
        finetune(FinetuneConfig(run=tiny_run, samples=samples, out=out, epochs=1, data=MNIST))
    assert not out.exists()  # no empty run directory left behind
    res = run_cli("finetune", "--run", str(tiny_run), "--samples", str(samples), "--out", str(out))
    assert res.returncode == 1 and expected in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_missing_classes_warn_and_still_run(tmp_path, tiny_run, sample_set):
    samples = _copy_classes(sample_set, tmp_path / "samples", {c: 6 for c in "01234"})
    logs: list[str] = []
    result = finetune(FinetuneConfig(run=tiny_run, samples=samples, out=tmp_path / "out", epochs=1,
                                     data=MNIST), log=logs.append)
    assert result.samples_holdout == 10 and result.warnings
    assert any("warning: no samples of 5, 6, 7, 8, 9" in line for line in logs)


def test_augment_none_trains_on_the_samples_as_they_are(tmp_path, tiny_run, sample_set):
    runs = {aug: finetune(FinetuneConfig(run=tiny_run, samples=sample_set, out=tmp_path / aug, epochs=2,
                                         data=MNIST, augment=aug))
            for aug in ("none", "light")}
    histories = {aug: json.loads((r.run_dir / "history.json").read_text()) for aug, r in runs.items()}
    assert histories["none"]["loss"] != histories["light"]["loss"]  # the option reaches the batches


def test_unknown_augment_is_a_one_line_error(tmp_path, tiny_run, sample_set):
    with pytest.raises(ConfigError, match="unknown --augment 'heavy'"):
        finetune(FinetuneConfig(run=tiny_run, samples=sample_set, out=tmp_path / "o", augment="heavy"))
    res = run_cli("finetune", "--run", str(tiny_run), "--samples", str(sample_set), "--out",
                  str(tmp_path / "o"), "--augment", "heavy")
    assert res.returncode != 0 and "light" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def _parent_that_learned(run: Path, dst: Path, writers: list[str]) -> Path:
    """A copy of `run` whose metrics.json says it was trained with `--other-writers WRITERS`."""
    shutil.copytree(run, dst)
    metrics = json.loads((dst / "metrics.json").read_text())
    metrics["config"]["other_writers"] = writers
    (dst / "metrics.json").write_text(json.dumps(metrics))
    return dst


def test_the_other_writers_a_parent_learned_are_rehearsed_and_inherited(tmp_path, tiny_run, sample_set):
    """An `--augment` parent learned other writers: the fine-tune mixes their images in, and says so."""
    parent = _parent_that_learned(tiny_run, tmp_path / "parent", ["optdigits", "pendigits"])
    logs: list[str] = []
    child = finetune(FinetuneConfig(run=parent, samples=sample_set, out=tmp_path / "child", epochs=1,
                                    data=MNIST, writers_ratio=2.0), log=logs.append)
    assert 0.95 * 2 * child.samples_train <= child.writer_images <= 2 * child.samples_train
    assert child.mnist_images == 5 * child.samples_train
    child_metrics = json.loads((child.run_dir / "metrics.json").read_text())
    assert child_metrics["learned_writers"] == ["optdigits", "pendigits"]
    assert child_metrics["writer_images"] == child.writer_images
    assert any(f"+ {child.writer_images} of optdigits, pendigits" in line for line in logs)
    # A fine-tune of the fine-tuned run rehearses what its parent learned; a plain parent, nothing.
    grandchild = finetune(FinetuneConfig(run=child.run_dir, samples=sample_set, out=tmp_path / "gc",
                                         epochs=1, data=MNIST))
    assert grandchild.writer_images > 0
    plain = finetune(FinetuneConfig(run=tiny_run, samples=sample_set, out=tmp_path / "plain", epochs=1,
                                    data=MNIST))
    assert plain.writer_images == 0
    assert json.loads((plain.run_dir / "metrics.json").read_text())["learned_writers"] == []


def test_a_parent_whose_writers_are_missing_is_one_line_naming_the_way_out(tmp_path, tiny_run, sample_set):
    parent = _parent_that_learned(tiny_run, tmp_path / "parent", ["optdigits"])
    empty = tmp_path / "no_writers"
    empty.mkdir()
    out = tmp_path / "out"
    res = run_cli("finetune", "--run", str(parent), "--samples", str(sample_set), "--out", str(out),
                  "--data", str(MNIST), "--epochs", "1", env={"CNN_EDGE_OTHER_WRITERS": str(empty)})
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "learned other writers (optdigits)" in res.stderr and "--writers-ratio 0" in res.stderr
    assert not out.exists()
