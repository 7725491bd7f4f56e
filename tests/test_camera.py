"""`cnn-edge infer --camera` driven by an MJPG video file standing in for the camera."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cnn_edge.common.errors import CameraError
from cnn_edge.device.camera import CameraConfig, run_camera

from .conftest import MNIST, run_cli

N_FRAMES = 24


@pytest.fixture(scope="module")
def card_video(tmp_path_factory) -> tuple[Path, list[int]]:
    """Digit cards (white, dark ink) held in the middle of a darker, textured room."""
    d = np.load(MNIST)
    path = tmp_path_factory.mktemp("video") / "cards.avi"
    rng = np.random.default_rng(0)
    room = cv2.GaussianBlur(rng.uniform(40, 120, (480, 640)).astype(np.float32), (0, 0), 5)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 480))
    labels = []
    for i in range(N_FRAMES):
        k = i // 8
        frame = room.copy()
        frame[160:320, 250:390] = 215
        glyph = cv2.resize(d["x_test"][k], (110, 110), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        frame[185:295, 265:375] *= 1.0 - 0.8 * glyph / 255.0
        frame += rng.normal(0, 3, frame.shape)
        writer.write(cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
        labels.append(int(d["y_test"][k]))
    writer.release()
    return path, labels


def test_video_json_lines_and_summary(converted_run, card_video):
    path, _ = card_video
    res = run_cli("infer", "--model", str(converted_run / "model_int8.tflite"), "--camera",
                  "--source", str(path), "--no-display", "--json", "--frames", "10")
    assert res.returncode == 0, res.stderr
    lines = [json.loads(ln) for ln in res.stdout.splitlines()]
    assert [r["frame"] for r in lines] == list(range(10))
    for r in lines:
        assert set(r) >= {"frame", "label", "confidence", "latency_ms", "fps"}
        assert r["label"] is None or isinstance(r["label"], int)
        assert isinstance(r["latency_ms"], float) and isinstance(r["fps"], float)
    assert "summary: 10 frames" in res.stderr and "p50" in res.stderr and "Traceback" not in res.stderr


def test_end_of_stream_reads_every_frame_in_order(converted_run, card_video):
    path, labels = card_video
    seen = []
    summary = run_camera(CameraConfig(model=converted_run / "model_float32.tflite", source=str(path),
                                      display=False, smooth=3), on_frame=seen.append)
    assert summary.frames == N_FRAMES and summary.stop_reason == "end of stream"
    assert [r.frame for r in seen] == list(range(N_FRAMES))
    assert summary.mean_fps > 0 and summary.latency_ms["p50"] > 0
    # The tiny test model is weak, but the cards must be found (a digit, not "no digit").
    assert sum(r.raw_label is not None for r in seen) >= N_FRAMES - 2


def test_headless_notice_once(converted_run, card_video):
    path, _ = card_video
    notes = []
    run_camera(CameraConfig(model=converted_run / "model_int8.tflite", source=str(path), frames=3),
               on_notice=notes.append)
    assert len(notes) == 1 and "headless" in notes[0]


def test_camera_index_that_does_not_exist(converted_run):
    res = run_cli("infer", "--model", str(converted_run / "model_int8.tflite"), "--camera", "--source", "57",
                  "--no-display")
    assert res.returncode != 0
    assert res.stderr.strip().count("\n") == 0 and "camera 57 cannot be opened" in res.stderr


def test_missing_video_and_picamera2(converted_run):
    with pytest.raises(CameraError):
        run_camera(CameraConfig(model=converted_run / "model_int8.tflite", source="/no/such.avi",
                                display=False))
    res = run_cli("infer", "--model", str(converted_run / "model_int8.tflite"), "--camera", "--source",
                  "picamera2", "--no-display")
    assert res.returncode != 0 and "picamera2" in res.stderr and "Traceback" not in res.stderr


def test_sigterm_ends_a_camera_run_like_ctrl_c_with_143(converted_run, card_video):
    """A service manager stopping `infer --camera` gets the summary and 143, not a traceback."""
    import signal
    import subprocess
    import sys

    path, _ = card_video
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnn_edge", "infer", "--model", str(converted_run / "model_int8.tflite"),
         "--camera", "--source", str(path), "--loop", "--no-display", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout.readline().startswith("{"), proc.stderr  # the loop is running
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, stderr
    assert "summary:" in stderr and "interrupted" in stderr and "Traceback" not in stderr
