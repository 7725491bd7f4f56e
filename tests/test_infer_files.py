"""`cnn-edge infer PATH...` with a real converted model, real LiteRT and real OpenCV."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cnn_edge.device.files import InferFilesConfig, infer_files

from .conftest import MNIST, run_cli
from .image_bytes import HEIC, iso_bmff


def paper_photo(digit: np.ndarray, size=(300, 400), colour=True) -> np.ndarray:
    page = np.full(size, 210.0, np.float32) + np.linspace(-30, 15, size[1])[None, :]
    g = cv2.resize(digit, (120, 120), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    page[80:200, 140:260] *= 1.0 - 0.75 * g
    page += np.random.default_rng(0).normal(0, 4, page.shape)
    img = np.clip(page, 0, 255).astype(np.uint8)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if colour else img


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    d = np.load(MNIST)
    digit = d["x_test"][0]
    out = tmp_path_factory.mktemp("images")
    photo = paper_photo(digit)
    paths = {}

    def put(name, data: bytes):
        paths[name] = out / name
        paths[name].write_bytes(data)

    put("photo.jpg", cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    put("grey.png", cv2.imencode(".png", cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))[1].tobytes())
    put("deep16.png", cv2.imencode(".png", photo.astype(np.uint16) * 257)[1].tobytes())
    rgba = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    put("alpha.png", cv2.imencode(".png", rgba)[1].tobytes())
    put("tiny.png", cv2.imencode(".png", np.full((1, 1), 128, np.uint8))[1].tobytes())
    huge = cv2.resize(photo, (4000, 4000), interpolation=cv2.INTER_LINEAR)
    put("huge.jpg", cv2.imencode(".jpg", huge, [cv2.IMWRITE_JPEG_QUALITY, 70])[1].tobytes())
    put("blank.jpg", cv2.imencode(".jpg", np.full((300, 400, 3), 200, np.uint8))[1].tobytes())
    jpeg = cv2.imencode(".jpg", photo)[1].tobytes()
    png = cv2.imencode(".png", photo)[1].tobytes()
    put("zero.png", b"")
    put("truncated.jpg", jpeg[: len(jpeg) // 2])
    put("truncated.png", png[: len(png) // 2])
    put("random.jpg", np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    put("notes.txt", b"this is not an image\n")
    try:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)).convert("CMYK").save(buf, "JPEG", quality=90)
        put("cmyk.jpg", buf.getvalue())
    except ImportError:  # pragma: no cover
        pass
    return paths


GOOD = ["photo.jpg", "grey.png", "deep16.png", "alpha.png", "huge.jpg"]
NULL = ["tiny.png", "blank.jpg"]
BROKEN = ["zero.png", "truncated.jpg", "truncated.png", "random.jpg", "notes.txt"]


def test_json_contract_and_broken_files(converted_run, images, tmp_path):
    model = converted_run / "model_int8.tflite"
    names = GOOD + NULL + BROKEN
    res = run_cli("infer", "--model", str(model), "--json", "--save-preprocessed", str(tmp_path / "pre"),
                  *[str(images[n]) for n in names])
    assert res.returncode == 1, res.stderr
    lines = [json.loads(ln) for ln in res.stdout.splitlines()]
    by_name = {Path(r["source"]).name: r for r in lines}
    assert set(by_name) == set(names)
    for n in GOOD + NULL:
        r = by_name[n]
        assert set(r) >= {"source", "label", "confidence", "latency_ms", "preprocess_ms", "top3"}
        assert isinstance(r["latency_ms"], float) and isinstance(r["preprocess_ms"], float)
    for n in GOOD:
        r = by_name[n]
        assert isinstance(r["label"], int) and 0 <= r["label"] <= 9, n
        assert isinstance(r["confidence"], float) and 0 < r["confidence"] <= 1
        assert len(r["top3"]) == 3 and r["top3"][0]["label"] == r["label"]
    for n in NULL:
        assert by_name[n]["label"] is None and by_name[n]["confidence"] is None, n
    for n in BROKEN:
        assert set(by_name[n]) == {"source", "error"} and by_name[n]["error"], n
    assert "Traceback" not in res.stderr
    assert len(list((tmp_path / "pre").glob("*.png"))) == len(GOOD)


def test_cmyk_jpeg(converted_run, images):
    if "cmyk.jpg" not in images:
        pytest.skip("Pillow is not installed, cannot write a CMYK JPEG")
    model = converted_run / "model_int8.tflite"
    res = infer_files(InferFilesConfig(model=model, paths=[str(images["cmyk.jpg"])]))
    rec = res.records[0]
    assert rec.ok and rec.prediction is not None and rec.prediction.label is not None


def test_folders_globs_and_table(converted_run, images):
    folder = images["photo.jpg"].parent
    res = run_cli("infer", "--model", str(converted_run / "model_float32.tflite"), str(folder),
                  str(folder / "*.png"))
    # The folder holds broken files too: their lines are errors, the rest answered.
    assert res.returncode == 1
    assert "photo.jpg" in res.stdout and "error" in res.stdout and "Traceback" not in res.stderr
    ok = run_cli("infer", "--model", str(converted_run / "model_float32.tflite"), str(images["photo.jpg"]))
    assert ok.returncode == 0, ok.stderr
    assert "label" in ok.stdout.splitlines()[0]


def test_library_result(converted_run, images):
    cfg = InferFilesConfig(model=converted_run / "model_int8.tflite",
                           paths=[str(images["photo.jpg"]), str(images["zero.png"]), "nope/*.png"])
    res = infer_files(cfg)
    assert [r.ok for r in res.records] == [True, False, False]
    assert res.failed == 2
    p = res.records[0].prediction
    assert p.latency_ms > 0 and p.digit.shape == (28, 28)


def test_bad_model_is_one_line(tmp_path, images):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all")
    res = run_cli("infer", "--model", str(bad), str(images["photo.jpg"]))
    assert res.returncode != 0
    assert res.stderr.strip().count("\n") == 0 and res.stderr.startswith("error:")


def test_phone_photo_stored_sideways_is_read_upright(converted_run, tmp_path):
    """A phone held upright stores its pixels a quarter turn off and says so in EXIF (orientation
    6): the model must see the digit upright, exactly as in a file stored upright."""
    from .image_bytes import jpeg_with, oriented_by_opencv, png_with

    photo = paper_photo(np.load(MNIST)["x_test"][1])
    stored = np.ascontiguousarray(np.rot90(photo, k=1))  # the sensor's pixels: a quarter turn anticlockwise
    files = {"upright.png": cv2.imencode(".png", photo)[1].tobytes(), "phone.png": png_with(stored, 6),
             "phone.jpg": jpeg_with(stored, 6), "as-stored.png": cv2.imencode(".png", stored)[1].tobytes()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    model = converted_run / "model_int8.tflite"
    records = infer_files(InferFilesConfig(model=model, paths=[str(tmp_path / n) for n in files])).records
    seen = {Path(r.source).name: r.prediction.digit for r in records}
    assert np.array_equal(seen["phone.png"], seen["upright.png"])
    assert not np.array_equal(seen["as-stored.png"], seen["upright.png"])  # what was read before
    # JPEG: the same pixels OpenCV itself makes of the file when it applies the orientation.
    opencv = cv2.imencode(".png", oriented_by_opencv(files["phone.jpg"]))[1].tobytes()
    (tmp_path / "opencv.png").write_bytes(opencv)
    record = infer_files(InferFilesConfig(model=model, paths=[str(tmp_path / "opencv.png")])).records[0]
    assert np.array_equal(seen["phone.jpg"], record.prediction.digit)


def test_iphone_heic_photos_say_what_to_do(converted_run, tmp_path):
    """OpenCV cannot decode HEIC (an iPhone's default): the error names it and says to export
    JPEG or PNG, for a file named on the command line, for a folder holding only such photos, and
    for each one beside readable photos (before: silently left out of the folder's results)."""
    from cnn_edge.edge_runtime.images import heif_brand

    assert heif_brand(HEIC) == "HEIC"
    assert heif_brand(iso_bmff(b"mif1", b"heic")) == "HEIC"
    assert heif_brand(iso_bmff(b"avif", b"mif1")) == "AVIF"
    assert heif_brand(iso_bmff(b"isom", b"mp41")) is None  # an MP4 video, not a photo
    folder, mixed = tmp_path / "iphone", tmp_path / "mixed"
    folder.mkdir()
    mixed.mkdir()
    (folder / "IMG_0001.HEIC").write_bytes(HEIC)
    (mixed / "IMG_0002.heic").write_bytes(HEIC)
    cv2.imwrite(str(mixed / "IMG_0003.jpg"), paper_photo(np.load(MNIST)["x_test"][0]))
    model = converted_run / "model_int8.tflite"
    res = run_cli("infer", "--model", str(model), "--json", str(folder / "IMG_0001.HEIC"), str(folder),
                  str(mixed))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    errors = [d["error"] for d in lines[:2]]
    assert "cannot decode HEIC photos" in errors[0] and "JPEG or PNG" in errors[0]
    assert "only 1 HEIC photo" in errors[1] and "JPEG or PNG" in errors[1]
    by_file = {Path(d["source"]).name: d for d in lines[2:]}
    assert set(by_file) == {"IMG_0002.heic", "IMG_0003.jpg"}
    assert "error" not in by_file["IMG_0003.jpg"] and by_file["IMG_0003.jpg"]["label"] is not None
    assert "cannot decode HEIC" in by_file["IMG_0002.heic"]["error"]
