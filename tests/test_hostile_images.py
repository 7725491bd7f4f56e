"""Hostile image inputs: bombs, device files, FIFOs, symlink loops, OS errors, odd names.

Each case runs `cnn-edge` in a subprocess with a timeout (a hang fails the test) and measures
the child's own peak memory (VmHWM of its address space, written as it exits: ru_maxrss would
also count the pytest process it was forked from). Every call also passes a good photo,
which must keep its answer. Permission cases run as `nobody` (tests run as root here, and
root ignores permissions).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from cnn_edge.edge_runtime.image_header import image_size
from cnn_edge.edge_runtime.images import decode_image
from tests.conftest import REPO
from tests.image_bytes import png_chunk

MODEL = REPO / "cnn_edge" / "device" / "assets" / "doctor_model.tflite"
# Peak memory allowed for a call that must refuse a bomb: the interpreter, OpenCV and numpy
# take about 85 MB here; the bombs below reached 1.0-1.5 GB before.
PEAK_LIMIT_MB = 300


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float

    def records(self) -> dict[str, dict]:
        out = {}
        for line in self.stdout.splitlines():
            record = json.loads(line)
            out[Path(record["source"]).name] = record
        return out


def run(*args: str, cwd: Path, timeout: float = 60, as_nobody: bool = False,
        env: dict[str, str] | None = None) -> Outcome:
    """`cnn-edge ARGS` in a subprocess: its exit code, output and own peak RSS; killed after `timeout`."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        peak_file = Path(tempfile.mkdtemp()) / "peak"
        peak_file.parent.chmod(0o777)
        proc = subprocess.Popen(
            [*(AS_NOBODY if as_nobody else []), sys.executable, "-c", MEASURED, str(peak_file), *args],
            cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + timeout
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.send_signal(signal.SIGKILL)
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                pytest.fail(f"cnn-edge {' '.join(args)} still running after {timeout} s")
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        peak_kb = int(peak_file.read_text()) if peak_file.exists() else -1
        shutil.rmtree(peak_file.parent)
        return Outcome(proc.returncode, *text, peak_kb / 1024)


# `python -m cnn_edge ARGS` that writes its peak resident memory (kB) to argv[1] as it exits.
MEASURED = """\
import atexit, runpy, sys
peak_file = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as status, open(peak_file, "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM")).split()[1])
atexit.register(peak)
sys.argv[0] = "cnn-edge"
runpy.run_module("cnn_edge", run_name="__main__", alter_sys=True)
"""

# util-linux's setpriv: the child runs as nobody, with no capabilities and no supplementary groups.
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A folder anyone may enter, holding the model and one good photo (good.png)."""
    folder = Path(tempfile.mkdtemp(prefix="cnn-edge-hostile-"))
    folder.chmod(0o755)
    shutil.copy(MODEL, folder / "model.tflite")
    img = np.full((120, 120), 255, np.uint8)
    cv2.line(img, (60, 25), (60, 95), 0, 8)
    cv2.imwrite(str(folder / "good.png"), img)
    for path in folder.iterdir():
        path.chmod(0o644)
    yield folder
    for path in folder.rglob("*"):  # undo the chmods that would stop the clean-up
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def assert_good_answered(outcome: Outcome) -> None:
    good = outcome.records()["good.png"]
    assert "error" not in good and good["label"] == 1, good
    assert "Traceback" not in outcome.stderr, outcome.stderr


# --------------------------------------------------------------------------- bombs


def png_bomb(width: int, height: int, depth: int = 16, color_type: int = 0, rows: int | None = None) -> bytes:
    """A valid PNG of zeros: a few hundred kB of zlib that inflate to width x height pixels.

    `rows` writes only that many rows of data (the header still claims `height`).
    """
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = bytes(1 + width * channels * depth // 8)
    z = zlib.compressobj(9)
    idat = b"".join([z.compress(row) for _ in range(height if rows is None else rows)] + [z.flush()])
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    chunks = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def jpeg_bomb(width: int, height: int) -> bytes:
    """A 16x16 colour JPEG whose SOF0 header is edited to claim width x height (libjpeg fills the rest)."""
    data = bytearray(cv2.imencode(".jpg", np.full((16, 16, 3), 200, np.uint8))[1].tobytes())
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def test_decompression_bombs_are_refused_from_their_header(workdir: Path) -> None:
    (workdir / "bomb16.png").write_bytes(png_bomb(10_000, 10_000))  # 200 MB of 16-bit pixels
    (workdir / "bomb.jpg").write_bytes(jpeg_bomb(20_000, 20_000))  # 1.2 GB of BGR
    (workdir / "rgba16.png").write_bytes(png_bomb(32_000, 32_000, 16, 6, rows=4))  # 8 GB claimed
    outcome = run("infer", "--model", "model.tflite", "--json", "bomb16.png", "bomb.jpg", "rgba16.png",
                  "good.png", cwd=workdir)
    assert outcome.returncode == 1, outcome
    records = outcome.records()
    for name in ("bomb16.png", "bomb.jpg", "rgba16.png"):
        assert "megapixel limit" in records[name]["error"], records[name]
    assert_good_answered(outcome)
    print(f"bombs: peak {outcome.peak_mb:.0f} MB")
    assert 0 < outcome.peak_mb < PEAK_LIMIT_MB, f"peak {outcome.peak_mb:.0f} MB"


def test_the_pixel_limit_can_be_raised_and_lowered(workdir: Path) -> None:
    lowered = run("infer", "--model", "model.tflite", "--json", "good.png", cwd=workdir,
                  env={"CNN_EDGE_MAX_IMAGE_PIXELS": "1000"})
    assert "megapixel limit" in lowered.records()["good.png"]["error"]
    assert lowered.returncode == 1
    (workdir / "wide.png").write_bytes(png_bomb(9_000, 5_000, 8, 0))  # 45 MP, white enough to hold no digit
    raised = run("infer", "--model", "model.tflite", "--json", "wide.png", "good.png", cwd=workdir,
                 env={"CNN_EDGE_MAX_IMAGE_PIXELS": "50000000"})
    assert "error" not in raised.records()["wide.png"], raised
    assert_good_answered(raised)


def _webp(kind: bytes, payload: bytes) -> bytes:
    body = b"WEBP" + kind + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _tiff(width: int, height: int) -> bytes:
    entries = [(256, 4, 1, width), (257, 4, 1, height)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 4


HEADERS = {
    "png": (png_bomb(30_000, 20_000, 8, 0, rows=1), (30_000, 20_000)),
    "jpeg": (jpeg_bomb(32_000, 32_000), (32_000, 32_000)),
    "webp-vp8": (_webp(b"VP8 ", b"\x00" * 3 + b"\x9d\x01\x2a" + struct.pack("<HH", 16383, 16383) + bytes(16)),
                 (16383, 16383)),
    "webp-vp8l": (_webp(b"VP8L", b"\x2f" + struct.pack("<I", (16383 - 1) | ((9000 - 1) << 14)) + bytes(8)),
                  (16383, 9000)),
    "webp-vp8x": (_webp(b"VP8X", bytes(4) + (19999).to_bytes(3, "little") + (29999).to_bytes(3, "little")),
                  (20000, 30000)),
    "bmp": (b"BM" + bytes(12) + struct.pack("<Iii", 40, 50_000, -40_000) + bytes(28), (50_000, 40_000)),
    "tiff": (_tiff(60_000, 60_000), (60_000, 60_000)),
    "pgm": (b"P5\n# a comment\n70000 70000\n255\n" + bytes(16), (70_000, 70_000)),
}


@pytest.mark.parametrize("kind", sorted(HEADERS))
def test_each_format_header_is_read_and_refused_past_the_limit(kind: str) -> None:
    data, size = HEADERS[kind]
    assert image_size(data) == size
    from cnn_edge.common.errors import ImageError

    with pytest.raises(ImageError, match="megapixel limit"):
        decode_image(data + b"\xff\xd9" if kind == "jpeg" else data, name=kind)


def test_a_small_header_reads_a_normal_photo_size() -> None:
    img = np.zeros((30, 40, 3), np.uint8)
    for ext in (".png", ".jpg", ".bmp", ".tiff", ".webp", ".pgm"):
        src = img[:, :, 0] if ext == ".pgm" else img
        assert image_size(cv2.imencode(ext, src)[1].tobytes()) == (40, 30), ext


# --------------------------------------------------------------------------- special files


def test_devices_and_fifos_named_like_images_are_refused(workdir: Path) -> None:
    (workdir / "zero.png").symlink_to("/dev/zero")
    (workdir / "random.png").symlink_to("/dev/urandom")
    os.mkfifo(workdir / "fifo.png")
    outcome = run("infer", "--model", "model.tflite", "--json", "zero.png", "random.png", "fifo.png",
                  "good.png", cwd=workdir, timeout=60)
    records = outcome.records()
    for name in ("zero.png", "random.png", "fifo.png"):
        assert "not a regular file" in records[name]["error"], records[name]
    assert_good_answered(outcome)
    print(f"devices: peak {outcome.peak_mb:.0f} MB")
    assert outcome.returncode == 1 and 0 < outcome.peak_mb < PEAK_LIMIT_MB, outcome.peak_mb
    # A folder scan takes regular files only: the FIFO and devices are passed over, nothing hangs.
    folder = run("infer", "--model", "model.tflite", "--json", ".", cwd=workdir, timeout=60)
    assert set(folder.records()) == {"good.png"}, folder
    assert_good_answered(folder)


def test_a_glob_over_symlink_loops_ends(workdir: Path) -> None:
    deep = workdir / "tree" / "a" / "b"
    deep.mkdir(parents=True)
    shutil.copy(workdir / "good.png", deep / "good.png")
    (workdir / "tree" / "loop1").symlink_to(".")
    (deep / "loop2").symlink_to("..")
    (deep / "loop3").symlink_to("../..")
    outcome = run("infer", "--model", "model.tflite", "--json", "tree/**/*.png", cwd=workdir, timeout=30)
    sources = [json.loads(line)["source"] for line in outcome.stdout.splitlines()]
    assert sources == ["tree/a/b/good.png"], outcome
    assert_good_answered(outcome)


# --------------------------------------------------------------------------- OS errors


def _nobody_can_run() -> bool:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return False
    probe = subprocess.run([*AS_NOBODY, sys.executable, "-c", "import cnn_edge"], capture_output=True,
                           cwd="/")
    return probe.returncode == 0


needs_nobody = pytest.mark.skipif(
    not _nobody_can_run(), reason="needs root and setpriv to run as `nobody`, who must be able to run Python"
)


def test_a_file_name_too_long_is_that_files_error(workdir: Path) -> None:
    outcome = run("infer", "--model", "model.tflite", "--json", "x" * 300 + ".png", "good.png", cwd=workdir)
    assert "File name too long" in outcome.records()["x" * 300 + ".png"]["error"]
    assert_good_answered(outcome)
    assert outcome.returncode == 1


@needs_nobody
def test_unreadable_folders_and_files_are_their_own_errors(workdir: Path) -> None:
    (workdir / "locked").mkdir()
    shutil.copy(workdir / "good.png", workdir / "locked" / "x.png")
    (workdir / "locked").chmod(0o000)
    shutil.copy(workdir / "good.png", workdir / "secret.png")
    (workdir / "secret.png").chmod(0o000)
    outcome = run("infer", "--model", "model.tflite", "--json", "locked", "locked/x.png", "secret.png",
                  "good.png", cwd=workdir, as_nobody=True)
    records = outcome.records()
    assert "Permission denied" in records["locked"]["error"]
    assert "Permission denied" in records["x.png"]["error"]
    assert "Permission denied" in records["secret.png"]["error"]
    assert_good_answered(outcome)
    assert outcome.returncode == 1


@needs_nobody
def test_save_preprocessed_into_a_read_only_folder_is_one_line(workdir: Path) -> None:
    (workdir / "seen").mkdir()
    (workdir / "seen").chmod(0o555)
    outcome = run("infer", "--model", "model.tflite", "good.png", "--save-preprocessed", "seen",
                  cwd=workdir, as_nobody=True)
    assert outcome.returncode == 2, outcome
    assert outcome.stderr.strip().splitlines() == [
        "error: cannot write to --save-preprocessed folder seen: Permission denied. "
        "choose a folder you can write to"
    ]


@needs_nobody
def test_collect_into_a_read_only_class_folder_is_one_line(workdir: Path) -> None:
    (workdir / "samples" / "1").mkdir(parents=True)
    (workdir / "samples").chmod(0o755)
    (workdir / "samples" / "1").chmod(0o555)
    outcome = run("collect", "--from", "good.png", "--label", "1", "--out", "samples", cwd=workdir,
                  as_nobody=True)
    assert outcome.returncode == 1, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot save a sample in samples/1: Permission denied" in lines[0], outcome


# --------------------------------------------------------------------------- names


def test_non_utf8_names_print_under_a_strict_utf8_output(workdir: Path) -> None:
    raw = os.fsencode(workdir) + b"/caf\xe9.png"  # Latin-1 bytes: not UTF-8
    shutil.copy(workdir / "good.png", raw)
    env = {"PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"}
    table = run("infer", "--model", "model.tflite", ".", cwd=workdir, env=env)
    assert table.returncode == 0, table
    assert "caf\\xe9.png" in table.stdout
    as_json = run("infer", "--model", "model.tflite", "--json", ".", cwd=workdir, env=env)
    assert as_json.returncode == 0, as_json
    records = as_json.records()
    assert records["caf\\xe9.png"]["label"] == 1
    assert_good_answered(as_json)
