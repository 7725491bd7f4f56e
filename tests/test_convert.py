"""`cnn-edge convert`: real conversions of a tiny trained model, checked in LiteRT."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cnn_edge.calibration_data import load_evaluation_set
from cnn_edge.common.errors import ConfigError, DataError, ModelError
from cnn_edge.common.formats import FORMATS
from cnn_edge.converter import ConvertConfig, convert
from cnn_edge.converter.calibration import load_calibration, select
from cnn_edge.converter.verify import float_tensors_inside
from cnn_edge.edge_runtime.interpreter import load_model
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def _one_clear_error(proc) -> str:
    """A user error: non-zero exit, one line on stderr, no traceback."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_both_models_load_in_litert_and_int8_is_fully_integer(converted_run: Path) -> None:
    f32 = load_model(converted_run / "model_float32.tflite")
    i8 = load_model(converted_run / "model_int8.tflite")
    assert f32.input_dtype == np.float32
    assert i8.input_dtype == np.int8 and i8.output_quant.dtype == np.int8
    assert (i8.input_quant.scale, i8.input_quant.zero_point) == (1.0, -128)
    assert float_tensors_inside(i8) == []
    assert all(np.issubdtype(dt, np.integer) for _, dt in i8.all_tensor_dtypes())


def test_int8_agrees_with_float32_on_most_evaluation_images(converted_run: Path) -> None:
    images, labels = load_evaluation_set()
    p32 = load_model(converted_run / "model_float32.tflite").predict(images)
    p8 = load_model(converted_run / "model_int8.tflite").predict(images)
    assert (p32 == p8).mean() > 0.97
    assert abs((p32 == labels).mean() - (p8 == labels).mean()) < 0.01


def test_manifest_fields_are_present_and_correct(converted_run: Path) -> None:
    m = json.loads((converted_run / "manifest.json").read_text())
    for key in ("tensorflow_version", "source_model", "preprocessing", "class_labels", "calibration",
                "evaluation", "models", "reproducibility"):
        assert key in m, key
    assert m["class_labels"] == [str(d) for d in range(10)]
    assert m["preprocessing"]["pixel_range"] == [0, 255]
    src = (converted_run / "model.keras").read_bytes()
    assert m["source_model"]["sha256"] == hashlib.sha256(src).hexdigest()
    assert m["source_model"]["path"] == "model.keras"
    assert 0 < m["source_model"]["accuracy"] <= 1
    assert m["calibration"]["samples"] == 1000 and m["calibration"]["class_balanced"] is True
    assert m["calibration"]["class_counts"] == [100] * 10
    by_format = {e["format"]: e for e in m["models"]}
    assert set(by_format) == {"float32", "int8"}
    for entry in by_format.values():
        data = (converted_run / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size_bytes"] == len(data)
        assert 0 < entry["accuracy"] <= 1
    i8 = by_format["int8"]
    assert i8["fully_integer"] and i8["io"] == "int8"
    assert i8["input"] | {"name": None} == {"name": None, "shape": [1, 28, 28], "dtype": "int8", "scale": 1.0,
                                             "zero_point": -128, "quantized": True}
    assert i8["output"]["dtype"] == "int8" and i8["output"]["scale"] > 0
    # The manifest's output quantization is enough to read logits without the model file.
    model = load_model(converted_run / "model_int8.tflite")
    assert model.output_quant.scale == pytest.approx(i8["output"]["scale"])
    assert by_format["float32"]["input"]["dtype"] == "float32"
    assert i8["size_bytes"] <= 0.26 * by_format["float32"]["size_bytes"]


def test_reconversion_is_byte_identical_across_processes(converted_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "again"
    run.mkdir()
    shutil.copy(converted_run / "model.keras", run / "model.keras")
    proc = run_cli("convert", "--run", str(run), "--int8")
    assert proc.returncode == 0, proc.stderr
    assert "int8 is" in proc.stdout and "pp" in proc.stdout
    for name in ("model_float32.tflite", "model_int8.tflite", "manifest.json"):
        assert (converted_run / name).read_bytes() == (run / name).read_bytes(), name


def test_every_format_in_the_table_converts_and_verifies(converted_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "all"
    run.mkdir()
    shutil.copy(converted_run / "model.keras", run / "model.keras")
    result = convert(ConvertConfig(run=run, formats=tuple(f.name for f in FORMATS), io="uint8",
                                   calibration_samples=50, evaluate=False))
    assert set(result.models) == {f.name for f in FORMATS}
    for fmt in FORMATS:
        assert (run / fmt.filename).is_file()
    i8 = load_model(run / "model_int8.tflite")
    assert i8.input_dtype == np.uint8 and float_tensors_inside(i8) == []
    assert result.models["float16"].size_bytes < 0.6 * result.models["float32"].size_bytes
    assert load_model(run / "model_dynamic.tflite").input_dtype == np.float32
    assert not list(run.glob(".*"))  # no temporary files left behind


def test_float32_io_int8_model_is_integer_inside(converted_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "fio"
    run.mkdir()
    shutil.copy(converted_run / "model.keras", run / "model.keras")
    convert(ConvertConfig(run=run, formats=("int8",), io="float32", calibration_samples=20, evaluate=False))
    m = load_model(run / "model_int8.tflite")
    assert m.input_dtype == np.float32 and float_tensors_inside(m) == []


def test_calibration_npz_and_selection(tmp_path: Path) -> None:
    images, labels = load_evaluation_set()
    np.savez(tmp_path / "cal.npz", x=images[:300], y=labels[:300])
    cal = load_calibration(tmp_path / "cal.npz", 100, seed=3)
    assert cal.images.shape == (100, 28, 28) and cal.balanced
    assert cal.class_counts == [10] * 10
    assert cal.sha256 == load_calibration(tmp_path / "cal.npz", 100, seed=3).sha256
    assert cal.sha256 != load_calibration(tmp_path / "cal.npz", 100, seed=4).sha256
    np.savez(tmp_path / "nolabels.npz", images[:50, :, :, None])  # (N, 28, 28, 1), no labels
    cal = load_calibration(tmp_path / "nolabels.npz", 50, seed=0)
    assert cal.images.shape == (50, 28, 28) and not cal.balanced
    idx, balanced = select(images, None, 10, seed=1)
    assert balanced is False and len(set(idx.tolist())) == 10


def test_a_calibration_folder_of_only_heic_photos_says_to_export_them(tmp_path: Path) -> None:
    from tests.image_bytes import HEIC

    (tmp_path / "IMG_0001.HEIC").write_bytes(HEIC)
    with pytest.raises(DataError, match=r"only HEIC photos \(1\).*export them as JPEG or PNG"):
        load_calibration(tmp_path, 10, seed=0)


@pytest.mark.parametrize("make, samples, expected", [
    (lambda p: np.savez(p, images=np.zeros((5, 32, 32), np.uint8) + 9), "5", "shape"),
    (lambda p: np.savez(p, images=np.full((5, 28, 28), 0.5, np.float32)), "5", "normalized"),
    (lambda p: np.savez(p, images=np.full((5, 28, 28), 300.0, np.float32)), "5", "0-255"),
    (lambda p: p.write_bytes(b"not a zip"), "5", "cannot read"),
    (lambda p: np.savez(p, images=np.full((5, 28, 28), 9, np.uint8)), "6", "only 5"),
    (lambda p: np.savez(p, images=np.full((5, 28, 28), 9, np.uint8)), "0", "at least 1"),
    (lambda p: None, "5", "not found"),
])
def test_bad_calibration_inputs_are_clear_errors(converted_run: Path, tmp_path: Path, make, samples,
                                                 expected) -> None:
    bad = tmp_path / "cal.npz"
    make(bad)
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(converted_run / "model.keras", run / "model.keras")
    proc = run_cli("convert", "--run", str(run), "--int8", "--calibration-data", str(bad),
                   "--calibration-samples", samples)
    assert expected in _one_clear_error(proc)
    assert not list(run.glob("*.tflite"))  # checked before anything is converted


def test_too_many_shipped_samples_is_clear_error() -> None:
    with pytest.raises(DataError, match="only 2000"):
        load_calibration(None, 2001, seed=0)
    with pytest.raises(ConfigError):
        load_calibration(None, 0, seed=0)


def test_missing_and_corrupt_model_are_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "not found" in _one_clear_error(run_cli("convert", "--run", str(empty)))
    (empty / "model.keras").write_bytes(b"garbage" * 100)
    assert "not a valid .keras" in _one_clear_error(run_cli("convert", "--run", str(empty)))
    # A real zip that is not a Keras archive gets past the cheap check and fails in Keras.
    shutil.make_archive(str(tmp_path / "zipped"), "zip", empty)
    shutil.move(tmp_path / "zipped.zip", empty / "model.keras")
    with pytest.raises(ModelError, match="cannot load Keras model"):
        convert(ConvertConfig(run=empty))
    assert not list(empty.glob("*.tflite"))


def test_bad_options_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--io"):
        convert(ConvertConfig(run=tmp_path, formats=("int8",), io="int4"))
    with pytest.raises(ConfigError, match="unknown format"):
        convert(ConvertConfig(run=tmp_path, formats=("bfloat",)))
    assert _one_clear_error(run_cli("convert")).startswith("error: pass --run")


def test_folder_of_images_goes_through_edge_preprocessing(converted_run: Path, tmp_path: Path) -> None:
    import cv2

    images, labels = load_evaluation_set()
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(12):  # dark ink on light paper, larger than 28x28: like a photo
        cv2.imwrite(str(folder / f"{i:02d}_{labels[i]}.png"), cv2.resize(255 - images[i], (84, 84)))
    cal = load_calibration(folder, 12, seed=0)
    assert cal.images.shape == (12, 28, 28) and cal.images.max() > 200
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(converted_run / "model.keras", run / "model.keras")
    cfg = ConvertConfig(run=run, formats=("int8",), calibration_data=folder, calibration_samples=12,
                        evaluate=False)
    result = convert(cfg)
    assert result.calibration_samples == 12
    cv2.imwrite(str(folder / "blank.png"), np.full((84, 84), 255, np.uint8))
    with pytest.raises(DataError, match="no digit"):
        load_calibration(folder, 12, seed=0)
    with pytest.raises(DataError, match="holds no images"):
        load_calibration(tmp_path / "run", 1, seed=0)
