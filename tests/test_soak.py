"""A long headless camera run (issue 6): a looping video, 10,000 frames, resident memory flat.

The camera loop keeps per-frame latencies for its summary (a few bytes a frame) and nothing
else should grow: frames, predictions and decoder buffers must be released as the run goes.
Resident memory is sampled every 500 frames from /proc/self/status; after a warm-up of 1,000
frames it may not grow by more than 5%.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from cnn_edge.device.camera import CameraConfig, run_camera

from .conftest import MNIST

FRAMES = 10_000
WARMUP = 1_000
EVERY = 500
MAX_GROWTH = 0.05


def rss_bytes() -> int:
    """This process's resident set size now (VmRSS), or its peak where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


@pytest.fixture(scope="module")
def looping_video(tmp_path_factory) -> Path:
    """100 frames (320x240 MJPG): digit cards, with every tenth frame an empty room (no card)."""
    digits = np.load(MNIST)["x_test"][:10]
    path = tmp_path_factory.mktemp("soak") / "loop.avi"
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
    for i in range(100):
        frame = rng.normal(90, 6, (240, 320))
        if i % 10:
            frame[60:180, 100:220] = 255 - cv2.resize(digits[i // 10], (120, 120))
        writer.write(cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def test_ten_thousand_frames_without_memory_growth(converted_run, looping_video):
    samples: list[tuple[int, int]] = []
    labels: set[int | None] = set()

    def on_frame(r) -> None:
        labels.add(r.raw_label)
        if r.frame % EVERY == 0 or r.frame == FRAMES - 1:
            samples.append((r.frame, rss_bytes()))

    start_rss = rss_bytes()
    t0 = time.perf_counter()
    summary = run_camera(
        CameraConfig(model=converted_run / "model_int8.tflite", source=str(looping_video), display=False,
                     loop=True, frames=FRAMES, threads=1),
        on_frame=on_frame,
    )
    seconds = time.perf_counter() - t0

    assert summary.frames == FRAMES and summary.stop_reason == "frame limit"
    assert None in labels and len(labels) > 2, "both cards and empty frames were seen"
    warm = [rss for frame, rss in samples if frame >= WARMUP]
    base, peak, end = warm[0], max(warm), warm[-1]
    mib = 2**20
    print(f"\nsoak: {FRAMES} frames in {seconds:.1f} s ({FRAMES / seconds:.0f} FPS); RSS MiB: before "
          f"{start_rss / mib:.1f}, frame 0 {samples[0][1] / mib:.1f}, after warm-up {base / mib:.1f}, "
          f"peak {peak / mib:.1f}, end {end / mib:.1f} ({(peak / base - 1):+.2%})")
    assert peak <= base * (1 + MAX_GROWTH), [(f, round(r / mib, 1)) for f, r in samples]
