"""Bad input and faults, in one suite (issue 6): every stage, driven through the real CLI.

Each bad input must be answered by one clear line (stderr; or one JSON error line per bad
file with --json) and a non-zero exit, never a traceback, and must cost nothing else: good
files beside a bad one are still classified, good models beside a broken one still measured,
run directories left as they were. Awkward but valid images must be answered, not rejected.
Then a property test throws random arrays and bytes at preprocessing and image loading.

Covered bad inputs (distinct): model files empty / truncated / random bytes / not TFLite (x3
commands); a model with 32x32 input; a model with 5 classes; a manifest whose sha256 does not
match the reference or the model; images zero-byte / truncated JPEG / truncated PNG / text /
random bytes / missing / a folder without images; a folder mixing good and bad files; a camera
index that does not exist; a --source that is not a video; a missing --source file; a video cut
in the middle; a video damaged in the middle; train --data random bytes / truncated / empty;
convert --calibration-data random bytes / CRC-damaged / NaN pixels; evaluate --data random
bytes / truncated / CRC-damaged; a corrupt checkpoint.json for --resume; and an interrupted
training run resumed to the end.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnn_edge.common.errors import ImageError
from cnn_edge.edge_runtime.images import load_image
from cnn_edge.edge_runtime.preprocess import CAMERA, DEFAULT, preprocess

from .conftest import MNIST, interrupt_training, run_cli

# --------------------------------------------------------------------------- helpers


def assert_one_error_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Non-zero exit, exactly one line on stderr naming the problem, no traceback anywhere."""
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    assert proc.returncode != 0, out
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digit_photo(index: int = 0, size: int = 200) -> np.ndarray:
    """An MNIST test digit as dark ink on white paper, `size` pixels square (grey uint8)."""
    digit = np.load(MNIST)["x_test"][index]
    return 255 - cv2.resize(digit, (size, size), interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="module")
def good_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "good.png"
    cv2.imwrite(str(path), digit_photo())
    return path


# --------------------------------------------------------------------------- model files

REAL = "model_int8.tflite"


def _bad_model_bytes(kind: str, real: bytes) -> bytes:
    rng = np.random.default_rng(6)
    return {
        "empty": b"",
        "truncated": real[: len(real) // 2],
        "random-bytes": rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes(),
        "not-tflite": json.dumps({"models": [], "note": "a JSON file, not a flatbuffer"}).encode() * 50,
    }[kind]


MODEL_KINDS = {
    "empty": "model file is empty",
    "truncated": "is not a valid TFLite model",
    "random-bytes": "is not a valid TFLite model",
    "not-tflite": "is not a valid TFLite model",
}


@pytest.mark.parametrize("kind", list(MODEL_KINDS))
@pytest.mark.parametrize("command", ["infer", "evaluate", "benchmark"])
def test_broken_model_file(converted_run, good_png, tmp_path, kind, command):
    bad = _bad_model_bytes(kind, (converted_run / REAL).read_bytes())
    run = tmp_path / "run"
    run.mkdir()
    model = run / REAL
    model.write_bytes(bad)
    if command == "infer":
        proc = run_cli("infer", "-m", str(model), str(good_png))
    elif command == "evaluate":
        proc = run_cli("evaluate", "--model", str(model), "--runs", "0", "--limit", "20")
    else:
        # The run's float32 model is fine: it must still be measured and reported.
        shutil.copy(converted_run / "model_float32.tflite", run)
        proc = run_cli("benchmark", "--run", str(run), "--json", "--no-keras", "--no-plots",
                       "--limit", "50", "--runs", "3", "--warmup", "0", "--batch", "8")
        rows = {r["name"]: r for r in json.loads(proc.stdout)["rows"]}
        assert rows["float32"]["error"] is None and rows["float32"]["accuracy"] > 0.5
        assert rows["int8"]["error"]
    line = assert_one_error_line(proc, MODEL_KINDS[kind], REAL)
    assert line.startswith("error: ")


@pytest.fixture(scope="module")
def misshapen_models(tmp_path_factory) -> dict[str, Path]:
    """Real TFLite models the toolkit must refuse: 32x32 input, and 5 classes out."""
    tf = pytest.importorskip("tensorflow", reason="builds TFLite models with TensorFlow")
    import keras

    root = tmp_path_factory.mktemp("misshapen")
    out = {}
    for name, shape, classes in (("input32", (32, 32, 1), 10), ("classes5", (28, 28), 5)):
        model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(classes)])
        model.export(str(root / name), verbose=False)
        blob = tf.lite.TFLiteConverter.from_saved_model(str(root / name)).convert()
        out[name] = root / f"{name}.tflite"
        out[name].write_bytes(blob)
    return out


@pytest.mark.parametrize(("name", "message"), [
    ("input32", "takes input of shape (1, 32, 32, 1), expected (1, 28, 28)"),
    ("classes5", "has output of shape (1, 5), expected 10 classes"),
])
@pytest.mark.parametrize("command", ["infer", "evaluate"])
def test_model_with_wrong_shape(misshapen_models, good_png, name, message, command):
    model = str(misshapen_models[name])
    if command == "infer":
        proc = run_cli("infer", "-m", model, str(good_png))
    else:
        proc = run_cli("evaluate", "--model", model, "--runs", "0", "--limit", "20")
    assert_one_error_line(proc, message, "cnn-edge convert")


@pytest.mark.parametrize("replaced", ["reference", "model"])
def test_manifest_that_does_not_match_its_models(converted_run, tmp_path, replaced):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("model_int8.tflite", "model_float32.tflite", "manifest.json"):
        shutil.copy(converted_run / name, run)
    # Swap in other (valid) model bytes: the manifest's sha256 no longer describes the file.
    if replaced == "reference":
        shutil.copy(run / "model_int8.tflite", run / "model_float32.tflite")
        wrong = "model_float32.tflite"
    else:
        shutil.copy(run / "model_float32.tflite", run / "model_int8.tflite")
        wrong = "model_int8.tflite"
    proc = run_cli("evaluate", "--model", str(run / "model_int8.tflite"), "--runs", "0", "--limit", "20")
    assert_one_error_line(proc, wrong, "does not match", "manifest.json", "cnn-edge convert")
    # An explicit --reference does not rely on the manifest, and still works; a --model whose own
    # manifest entry disagrees is refused whatever the reference (the loader checks every model).
    ok = run_cli("evaluate", "--model", str(run / "model_int8.tflite"), "--reference",
                 str(converted_run / "model_float32.tflite"), "--runs", "0", "--limit", "20", "--json")
    if replaced == "reference":
        assert ok.returncode == 0, ok.stderr
    else:
        assert_one_error_line(ok, wrong, "does not match its manifest")


# --------------------------------------------------------------------------- image files


def _write_bad_images(folder: Path) -> dict[str, str]:
    """Bad image files in `folder`: name -> what the error line must say."""
    ok_jpg = cv2.imencode(".jpg", digit_photo())[1].tobytes()
    ok_png = cv2.imencode(".png", digit_photo())[1].tobytes()
    (folder / "zero.png").write_bytes(b"")
    (folder / "cut.jpg").write_bytes(ok_jpg[: len(ok_jpg) // 2])
    (folder / "cut.png").write_bytes(ok_png[: len(ok_png) // 2])
    (folder / "notes.png").write_text("shopping list: milk, eggs\n")
    (folder / "noise.bmp").write_bytes(np.random.default_rng(3).integers(0, 256, 4000, np.uint8).tobytes())
    return {
        "zero.png": "empty file (0 bytes)",
        "cut.jpg": "truncated JPEG",
        "cut.png": "truncated PNG",
        "notes.png": "not an image OpenCV can decode",
        "noise.bmp": "not an image OpenCV can decode",
    }


@pytest.fixture(scope="module")
def bad_images(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("bad_images")
    return folder, _write_bad_images(folder)


@pytest.mark.parametrize("name", ["zero.png", "cut.jpg", "cut.png", "notes.png", "noise.bmp",
                                  "missing.png", "empty-folder"])
def test_bad_image_file(converted_run, bad_images, tmp_path, name):
    folder, expected = bad_images
    expected = {**expected, "missing.png": "no such file or folder",
                "empty-folder": "folder has no image files"}
    target = folder / name
    if name == "empty-folder":
        target = tmp_path / "nothing-here"
        target.mkdir()
        (target / "readme.txt").write_text("no pictures")
    proc = run_cli("infer", "-m", str(converted_run / REAL), "--json", str(target))
    assert_one_error_line(proc, "1 of 1 files could not be processed")
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) == 1 and expected[name] in records[0]["error"], records


def test_folder_mixing_good_and_bad_files(converted_run, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    bad = _write_bad_images(folder)
    for i in range(3):
        cv2.imwrite(str(folder / f"good{i}.png"), digit_photo(i))
    cv2.imwrite(str(folder / "good3.jpg"), digit_photo(3))
    proc = run_cli("infer", "-m", str(converted_run / REAL), "--json", str(folder))
    assert_one_error_line(proc, f"{len(bad)} of {len(bad) + 4} files could not be processed")
    records = {Path(r["source"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert len(records) == len(bad) + 4
    for name, needle in bad.items():
        assert needle in records[name]["error"], records[name]
    for name in ("good0.png", "good1.png", "good2.png", "good3.jpg"):
        assert "error" not in records[name] and isinstance(records[name]["label"], int), records[name]


def _write_awkward_images(folder: Path) -> dict[str, bool]:
    """Unusual but valid images: name -> whether a digit is in it (1x1 and blank ones have none)."""
    from PIL import Image

    photo = digit_photo()
    cv2.imwrite(str(folder / "one_pixel.png"), np.zeros((1, 1), np.uint8))
    huge = np.full((10_000, 10_000), 255, np.uint8)
    huge[4000:6000, 4000:6000] = digit_photo(size=2000)
    cv2.imwrite(str(folder / "huge_10000x10000.png"), huge, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    del huge
    cv2.imwrite(str(folder / "sixteen_bit.png"), photo.astype(np.uint16) * 257)
    cv2.imwrite(str(folder / "sixteen_bit.tif"), photo.astype(np.uint16) * 257)
    ink = 255 - photo  # dark ink drawn on a fully transparent canvas
    cv2.imwrite(str(folder / "alpha_bgra.png"), np.dstack([np.zeros_like(photo)] * 3 + [ink]))
    Image.fromarray(np.dstack([np.zeros_like(photo), ink]), "LA").save(folder / "alpha_grey.png")
    Image.fromarray(photo).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(photo).convert("P").save(folder / "palette.gif")
    Image.fromarray(photo).convert("1").save(folder / "one_bit.png")
    return {"one_pixel.png": False, "huge_10000x10000.png": True, "sixteen_bit.png": True,
            "sixteen_bit.tif": True, "alpha_bgra.png": True, "alpha_grey.png": True, "cmyk.jpg": True,
            "palette.gif": True, "one_bit.png": True}


def test_awkward_but_valid_images_are_answered(converted_run, tmp_path):
    folder = tmp_path / "awkward"
    folder.mkdir()
    awkward = _write_awkward_images(folder)
    plain = folder / "plain.png"
    cv2.imwrite(str(plain), digit_photo())
    # 10000x10000 is past the default 50 MP bomb limit: raising it is how a user passes such a photo.
    proc = run_cli("infer", "-m", str(converted_run / REAL), "--json", str(plain),
                   *(str(folder / name) for name in awkward), env={"CNN_EDGE_MAX_IMAGE_PIXELS": "100000000"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == "" and "Traceback" not in proc.stdout
    records = {Path(r["source"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert set(records) == {"plain.png", *awkward}
    expected = records["plain.png"]["label"]
    for name, has_digit in awkward.items():
        r = records[name]
        assert "error" not in r, r
        if has_digit:  # the same digit, read the same way, whatever the file's depth or channels
            assert r["label"] == expected, (name, r)
        else:
            assert r["label"] is None, (name, r)


# --------------------------------------------------------------------------- camera and video


@pytest.fixture(scope="module")
def card_video(tmp_path_factory) -> Path:
    """60 frames (320x240 MJPG) of a digit card in a grey room."""
    path = tmp_path_factory.mktemp("video") / "cards.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
    for i in range(60):
        frame = np.full((240, 320), 90, np.uint8)
        frame[60:180, 100:220] = digit_photo(i // 10, size=120)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def _camera(model: Path, source: str | Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("infer", "-m", str(model), "--camera", "--source", str(source), "--no-display",
                   "--json", *extra)


@pytest.mark.parametrize(("source", "message"), [
    ("7", "camera 7 cannot be opened"),
    ("no-such-video.avi", "no video file or camera 'no-such-video.avi'"),
    ("not-a-video", "is not a video file OpenCV can read"),
])
def test_camera_source_that_cannot_be_opened(converted_run, tmp_path, source, message):
    if source == "not-a-video":
        source = tmp_path / "clip.avi"
        source.write_text("this is a text file called clip.avi\n" * 100)
    proc = _camera(converted_run / REAL, source)
    assert_one_error_line(proc, message)
    assert proc.stdout == ""


@pytest.mark.parametrize(("damage", "min_frames"), [("cut", 20), ("scrambled", 50)])
def test_video_that_breaks_mid_stream(converted_run, card_video, tmp_path, damage, min_frames):
    data = bytearray(card_video.read_bytes())
    middle = len(data) // 2
    if damage == "cut":
        data = data[:middle]
    else:  # 3 KB of noise in the middle: one or two frames ruined, the rest still decode
        data[middle:middle + 3000] = np.random.default_rng(1).integers(0, 256, 3000, np.uint8).tobytes()
    video = tmp_path / f"{damage}.avi"
    video.write_bytes(bytes(data))
    proc = _camera(converted_run / REAL, video)
    # A broken source is a failure (exit 1), but every frame that could be read is reported.
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    frames = [json.loads(line) for line in proc.stdout.splitlines()]
    assert min_frames <= len(frames) < 60
    # The note (one line), then the summary; nothing else (no FFmpeg chatter).
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith(f"{video}: ") and "damaged" in lines[0]
    if damage == "cut":
        assert f"only {len(frames)} of the 60 frames" in lines[0]
    assert lines[1].startswith(f"summary: {len(frames)} frames") and "end of stream" in lines[1]


def test_intact_video_has_no_note(converted_run, card_video):
    proc = _camera(converted_run / REAL, card_video)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 60
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("summary: 60 frames")


def test_looping_video_replays_from_the_start(converted_run, card_video):
    proc = _camera(converted_run / REAL, card_video, "--loop", "--frames", "150")
    assert proc.returncode == 0, proc.stderr
    labels = [json.loads(line)["label"] for line in proc.stdout.splitlines()]
    assert len(labels) == 150 and "summary: 150 frames" in proc.stderr and "frame limit" in proc.stderr
    assert labels[60:120] == labels[:60] and labels[120:150] == labels[:30]


# --------------------------------------------------------------------------- .npz data


def _bad_npz(folder: Path, kind: str) -> Path:
    path = folder / f"{kind}.npz"
    if kind == "random-bytes":
        path.write_bytes(np.random.default_rng(2).integers(0, 256, 3000, np.uint8).tobytes())
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(MNIST.read_bytes()[:200_000])
    elif kind == "crc-damaged":
        rng = np.random.default_rng(0)
        np.savez_compressed(path, images=rng.integers(0, 256, (200, 28, 28), np.uint8),
                            labels=np.arange(200) % 10)
        data = bytearray(path.read_bytes())
        data[len(data) // 3:len(data) // 3 + 40] = bytes(40)
        path.write_bytes(bytes(data))
    elif kind == "nan-pixels":
        np.savez(path, images=np.full((50, 28, 28), np.nan, np.float32), labels=np.arange(50) % 10)
    return path


NPZ_MESSAGES = {
    "random-bytes": "not an .npz file",
    "empty": "the file is empty",
    "truncated": "File is not a zip file",
    "crc-damaged": "Bad CRC-32",
    "nan-pixels": "calibration pixels outside 0-255",
}


@pytest.mark.parametrize("kind", ["random-bytes", "truncated", "empty"])
def test_train_with_corrupt_data(tmp_path, kind):
    proc = run_cli("train", "--out", str(tmp_path / "run"), "--data", str(_bad_npz(tmp_path, kind)),
                   "--epochs", "1")
    assert_one_error_line(proc, "cannot read", NPZ_MESSAGES[kind], "--data")
    # Nothing is left behind: the data is checked before the run directory is made.
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("kind", ["random-bytes", "crc-damaged", "nan-pixels"])
def test_convert_with_corrupt_calibration_data(converted_run, tmp_path, kind):
    run = tmp_path / "run"
    shutil.copytree(converted_run, run)
    before = {p.name: sha(p) for p in run.iterdir()}
    proc = run_cli("convert", "--run", str(run), "--int8",
                   "--calibration-data", str(_bad_npz(tmp_path, kind)))
    assert_one_error_line(proc, NPZ_MESSAGES[kind])
    assert {p.name: sha(p) for p in run.iterdir()} == before, "a failed convert must not touch the run"


@pytest.mark.parametrize("kind", ["random-bytes", "truncated", "crc-damaged"])
def test_evaluate_with_corrupt_data(converted_run, tmp_path, kind):
    proc = run_cli("evaluate", "--model", str(converted_run / REAL), "--runs", "0",
                   "--data", str(_bad_npz(tmp_path, kind)))
    assert_one_error_line(proc, "cannot read", NPZ_MESSAGES[kind])


# --------------------------------------------------------------------------- training faults

TRAIN = ["--arch", "softmax", "--train-limit", "2000", "--validation-size", "500", "--quiet"]


def test_resume_with_corrupt_checkpoint_state(tmp_path):
    from cnn_edge.common import run_dir as rd

    out = tmp_path / "run"
    out.mkdir()
    (out / rd.CHECKPOINT_STATE).write_text('{"epoch": 3, "hist')
    proc = run_cli("train", "--out", str(out), "--resume", "--epochs", "5", *TRAIN)
    assert_one_error_line(proc, "cannot resume", rd.CHECKPOINT_STATE)


def test_interrupted_training_is_resumed_to_the_end(tmp_path):
    """Ctrl-C during training (as tests/test_train.py::test_ctrl_c_keeps_a_checkpoint_and_exits_130),
    then `--resume` finishes the run from the checkpoint."""
    from cnn_edge.common import run_dir as rd

    out = tmp_path / "run"
    returncode, stderr = interrupt_training(out, "--epochs", "200", *TRAIN)
    assert returncode == 130 and "--resume" in stderr and "Traceback" not in stderr, stderr
    done = json.loads((out / rd.CHECKPOINT_STATE).read_text())["epoch"]
    assert 1 <= done < 200 and not (out / rd.MODEL).exists()

    target = done + 2
    resumed = run_cli("train", "--out", str(out), "--resume", "--epochs", str(target), *TRAIN)
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stdout + resumed.stderr
    assert len(json.loads((out / rd.HISTORY).read_text())["loss"]) == target
    assert json.loads((out / rd.METRICS).read_text())["epochs"] == target
    assert (out / rd.MODEL).stat().st_size > 0


# --------------------------------------------------------------------------- property test

DTYPES = [np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_]


@st.composite
def random_images(draw) -> np.ndarray:
    """Any size 1x1..300x300, 2-D or 3-D with 1/3/4 channels, any dtype, contrast, noise, NaN/inf."""
    h, w = draw(st.integers(1, 300)), draw(st.integers(1, 300))
    shape = draw(st.sampled_from([(h, w), (h, w, 1), (h, w, 3), (h, w, 4)]))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    style = draw(st.sampled_from(["noise", "flat", "blob", "strokes", "elements"]))
    if style == "elements":  # hypothesis' own values: extremes, NaN, inf, subnormals (small arrays)
        shape = (min(h, 24), min(w, 24), *shape[2:])
        return draw(hnp.arrays(dtype, shape, elements={"allow_nan": True, "allow_infinity": True}
                               if dtype.kind == "f" else None))
    lo, hi = sorted(draw(st.floats(0.0, 1.0)) for _ in range(2))
    if style == "flat":
        base = np.full(shape, lo, np.float64)
    elif style == "noise":
        base = rng.uniform(lo, hi, shape)
    else:  # a dark shape on light paper: what preprocessing is meant to find
        base = np.full(shape, hi, np.float64)
        for _ in range(int(rng.integers(1, 4))):
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            y1, x1 = rng.integers(y0, h + 1), rng.integers(x0, w + 1)
            base[y0:y1 + 1, x0:x1 + 1] = lo
        base = base + rng.normal(0, draw(st.floats(0.0, 0.2)), shape)
    if dtype == np.bool_:
        return base > 0.5
    if dtype.kind == "f":
        arr = (base * draw(st.sampled_from([1.0, 255.0, 1e6, -3.0]))).astype(dtype)
        if draw(st.booleans()):
            flat = arr.reshape(-1)
            idx = rng.integers(0, flat.size, max(1, flat.size // 50))
            flat[idx] = rng.choice([np.nan, np.inf, -np.inf], len(idx))
        return arr
    info = np.iinfo(dtype)
    top = min(float(info.max), draw(st.sampled_from([255.0, 4095.0, float(info.max)])))
    return np.clip(base * top, info.min, info.max).astype(dtype)


def _check_preprocess(arr: np.ndarray) -> None:
    for params in (DEFAULT, CAMERA):
        out = preprocess(arr, params)
        assert out is None or (out.shape == (28, 28) and out.dtype == np.uint8), (params, out)


_SCRATCH = Path(tempfile.mkdtemp(prefix="cnn-edge-hypothesis-"))


def _check_load_image(data: bytes, suffix: str) -> None:
    path = _SCRATCH / f"img{suffix}"
    path.write_bytes(data)
    try:
        img = load_image(path)
    except ImageError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert img.dtype == np.uint8 and img.ndim in (2, 3) and (img.ndim == 2 or img.shape[2] == 3)
    _check_preprocess(img)


def _encodable(arr: np.ndarray, ext: str) -> np.ndarray:
    """What OpenCV can write as `ext`: uint8 (or uint16 for PNG), 1/3/4 channels (no alpha in JPEG)."""
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    if arr.dtype not in (np.uint8, np.uint16) or (arr.dtype == np.uint16 and ext != ".png"):
        f = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        arr = np.clip(f, 0, 255).astype(np.uint8)
    if ext in (".jpg", ".bmp") and arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return arr


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(arr=random_images(), ext=st.sampled_from([".png", ".jpg", ".bmp"]), junk=st.binary(max_size=2048),
       cut=st.floats(0.0, 1.0))
def test_random_arrays_and_bytes_never_crash_preprocessing_or_loading(arr, ext, junk, cut):
    _check_preprocess(arr)
    ok, buf = cv2.imencode(ext, _encodable(arr, ext))
    assert ok
    encoded = buf.tobytes()
    _check_load_image(encoded, ext)
    # The same file cut short, and random bytes behind an image's name.
    _check_load_image(encoded[: int(len(encoded) * cut)], ext)
    _check_load_image(junk, ext)


def teardown_module() -> None:
    shutil.rmtree(_SCRATCH, ignore_errors=True)
