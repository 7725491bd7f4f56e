"""`cnn-edge collect`: headless from a video file standing in for the camera, and from photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnn_edge.common.errors import ConfigError, DataError
from cnn_edge.common.image_folders import INPUT_SUFFIX
from cnn_edge.device.collect import CollectConfig, collect, count_samples
from cnn_edge.edge_runtime.images import load_image
from cnn_edge.testing import synthetic_photos as sp

from .conftest import run_cli


@pytest.fixture(scope="module")
def glyphs() -> sp.GlyphSet:
    gs = sp.sklearn_glyphs()
    return gs.take([int(np.flatnonzero(gs.labels == d)[0]) for d in (7, 3, 1)])


@pytest.fixture(scope="module")
def card_video(tmp_path_factory, glyphs) -> Path:
    path = tmp_path_factory.mktemp("video") / "cards.avi"
    sp.make_card_video(path, glyphs, frames_per_card=6, size=(320, 240), seed=1)
    return path


def _pairs(folder: Path) -> tuple[list[Path], list[Path]]:
    files = sorted(folder.iterdir())
    inputs = [p for p in files if p.name.endswith(INPUT_SUFFIX)]
    crops = [p for p in files if not p.name.endswith(INPUT_SUFFIX)]
    return crops, inputs


def test_headless_video_writes_layout_and_never_overwrites(tmp_path, card_video):
    out = tmp_path / "samples"
    args = ("collect", "--out", str(out), "--source", str(card_video), "--label", "7",
            "--count", "5", "--interval", "0")
    res = run_cli(*args)
    assert res.returncode == 0, res.stderr
    crops, inputs = _pairs(out / "7")
    assert len(crops) == len(inputs) == 5
    assert sorted(p.name[: -len(INPUT_SUFFIX)] for p in inputs) == sorted(p.stem for p in crops)
    for crop, small in zip(crops, sorted(inputs), strict=True):
        assert "_cards_" in crop.name and crop.name[:8].isdigit()  # time and source in the name
        assert load_image(small).shape == (28, 28)
        assert min(load_image(crop).shape[:2]) > 28
    assert "7:5" in res.stdout and "total 5" in res.stdout
    before = {p.name: p.read_bytes() for p in (out / "7").iterdir()}

    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    after = {p.name: p.read_bytes() for p in (out / "7").iterdir()}
    assert len(after) == 20 and all(after[name] == data for name, data in before.items())
    assert count_samples(out)["7"] == 10 and "7:10" in again.stdout
    assert sorted(p.name for p in out.iterdir()) == ["7"]


def test_from_photos_folder(tmp_path, glyphs):
    photos = tmp_path / "photos"
    sp.make_photo_set(photos, glyphs.take([1, 1, 1, 1]), seed=5, frame_size=(320, 240))
    (photos / "broken.jpg").write_bytes(b"\xff\xd8not a jpeg")
    out = tmp_path / "samples"
    result = collect(CollectConfig(out=out, from_path=photos, label=3))
    assert len(result.saved) == 4 and result.counts["3"] == 4
    assert len(result.problems) == 1 and "broken.jpg" in result.problems[0]
    crops, inputs = _pairs(out / "3")
    assert len(crops) == len(inputs) == 4 and all(c.suffix == ".jpg" and "photo-" in c.name for c in crops)
    res = run_cli("collect", "--out", str(out), "--from", str(photos), "--label", "3")
    assert res.returncode == 1 and "broken.jpg" in res.stderr and "3:8" in res.stdout


def test_bad_options_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="--from needs --label"):
        collect(CollectConfig(out=tmp_path / "s", from_path=tmp_path))
    with pytest.raises(DataError, match="no image files"):
        collect(CollectConfig(out=tmp_path / "s", from_path=tmp_path, label=1))
    res = run_cli("collect", "--out", str(tmp_path / "s"), "--label", "12", "--source", "x.avi")
    assert res.returncode == 2 and "--label must be a digit" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("collect", "--out", str(tmp_path / "s"), "--source", str(tmp_path / "none.avi"),
                  "--no-display")
    assert res.returncode == 2 and "needs --label" in res.stderr


def test_collected_samples_are_counted_once_by_evaluate_and_benchmark(tmp_path, glyphs, converted_run):
    """A collected sample is a photo plus its 28x28 twin: readers of photos must count it once.

    Before the one folder reader (`cnn_edge.common.image_folders`), `evaluate --data` and
    `benchmark --photos` counted both files, so three samples loaded as six.
    """
    import json
    import shutil

    photos = tmp_path / "photos"
    sp.make_photo_set(photos, glyphs.take([0, 0, 0]), seed=3, frame_size=(320, 240))
    samples = tmp_path / "samples"
    result = collect(CollectConfig(out=samples, from_path=photos, label=7))
    assert len(result.saved) == 3 and len(list((samples / "7").iterdir())) == 6  # photo + twin each

    res = run_cli("evaluate", "--model", str(converted_run / "model_int8.tflite"), "--data", str(samples),
                  "--runs", "5", "--warmup", "1", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["images"] == 3

    run = tmp_path / "run"
    shutil.copytree(converted_run, run)
    res = run_cli("benchmark", "--run", str(run), "--photos", str(samples), "--limit", "100", "--runs", "5",
                  "--warmup", "1", "--batch", "8", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["photos"] == 3


def test_unreadable_and_heic_photos_are_named_by_evaluate_and_benchmark(tmp_path, glyphs, converted_run):
    """A damaged photo counts as a miss and a HEIC one cannot be read at all: before, the first was
    lumped in with "no digit" and the second silently left out, so a user's count came up short
    with no word why. Both are named, in `evaluate`'s and `benchmark`'s notes."""
    import json
    import shutil

    from .image_bytes import HEIC

    photos = tmp_path / "photos"
    sp.make_photo_set(photos, glyphs.take([0, 0]), seed=3, frame_size=(320, 240), layout="folders")
    good = sorted((photos / "7").glob("*.jpg"))
    assert len(good) == 2
    (photos / "7" / "damaged.jpg").write_bytes(good[0].read_bytes()[:200])  # a copy cut short
    (photos / "7" / "IMG_0001.HEIC").write_bytes(HEIC)

    res = run_cli("evaluate", "--model", str(converted_run / "model_int8.tflite"), "--data", str(photos),
                  "--runs", "0", "--json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert (d["images"], d["unreadable_images"]) == (3, 1) and d["invalid_images"] >= 1
    assert any("1 photo(s) could not be read" in n and "damaged.jpg" in n for n in d["notes"]), d["notes"]
    assert any("1 HEIC photo(s)" in n and "IMG_0001.HEIC" in n and "JPEG or PNG" in n for n in d["notes"])

    run = tmp_path / "run"
    shutil.copytree(converted_run, run)
    res = run_cli("benchmark", "--run", str(run), "--photos", str(photos), "--limit", "100", "--runs", "5",
                  "--warmup", "1", "--batch", "8", "--json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["photos"] == 3 and sum("damaged.jpg" in n or "IMG_0001.HEIC" in n for n in d["notes"]) == 2


def test_a_folder_of_only_heic_photos_says_to_export_them(tmp_path, converted_run):
    from .image_bytes import HEIC

    (tmp_path / "3").mkdir()
    (tmp_path / "3" / "IMG_0001.HEIC").write_bytes(HEIC)
    res = run_cli("evaluate", "--model", str(converted_run / "model_int8.tflite"), "--data", str(tmp_path))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "only 1 HEIC photo(s)" in res.stderr and "export them as JPEG or PNG" in res.stderr
