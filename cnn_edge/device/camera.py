"""`cnn-edge infer --camera`: classify the digit held up in the middle of a camera's view.

The loop anyone can follow: read a frame (`sources`), cut the centred search region, classify
it (`cnn_edge.edge_runtime.classify`), report it, show it (`preview`), until the stream ends,
the frame limit, q/Esc or Ctrl-C. Frames come from `sources`; the window from `preview`.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnn_edge.common import limits as lim
from cnn_edge.common.errors import ConfigError
from cnn_edge.device.preview import QUIT_KEYS, Preview, draw_overlay, open_preview
from cnn_edge.device.sources import FrameSource, open_source
from cnn_edge.edge_runtime.classify import Classifier, Prediction
from cnn_edge.edge_runtime.interpreter import load_model
from cnn_edge.edge_runtime.preprocess import CAMERA, DEFAULT, center_roi
from cnn_edge.measure.stats import RollingFps, percentiles

# The summary's latency percentiles cover at most this many recent frames (~55 min at 30 FPS).
SUMMARY_FRAMES = 100_000


@dataclass(frozen=True)
class CameraConfig:
    """One camera run.

    model: path of the .tflite classifier.
    source: camera index ("0"), video file, stream URL (rtsp://, http://...), or "picamera2".
    roi: side of the centred square searched for the digit, as a fraction of the frame's
        shorter side; the default fits a card that fills a third of the frame height.
    display: show a preview window when this machine can (False: never, as --no-display).
    frames: stop after this many frames (None: until the stream ends or the user quits).
    loop: replay a video file from its start each time it ends (a demo, a soak test); bound
        the run with `frames`. Meaningless for live cameras and streams, which never end.
    realtime: deliver a video file's frames at its own frame rate, as a camera would (a frame
        the model has no time for is dropped); off, a file runs as fast as the model can.
    smooth: report the majority label over the last K frames (1: no smoothing).
    find_card: look for a card (or a page) in the region before the digit, and say "no digit"
        when there is none; off, the whole region is treated as paper (a plain photo).
    backend, threads: as for `load_model`.
    """

    model: Path
    source: str = "0"
    roi: float = 0.6
    display: bool = True
    frames: int | None = None
    loop: bool = False
    realtime: bool = False
    smooth: int = 1
    find_card: bool = True
    backend: str = "auto"
    threads: int | None = None


@dataclass(frozen=True)
class FrameResult:
    """One processed frame. `label` is smoothed when --smooth K > 1; `raw_label` never is."""

    frame: int
    label: int | None
    confidence: float | None
    latency_ms: float
    preprocess_ms: float
    fps: float
    raw_label: int | None
    prediction: Prediction = field(repr=False, compare=False)

    def to_json(self) -> dict:
        return {
            "frame": self.frame,
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 6),
            "latency_ms": round(self.latency_ms, 4),
            "preprocess_ms": round(self.preprocess_ms, 4),
            "fps": round(self.fps, 2),
        }


@dataclass(frozen=True)
class CameraSummary:
    """What a run did; `stop_reason` is one of: end of stream, frame limit, quit, interrupted, camera lost.

    `latency_ms` and `preprocess_ms` are percentiles over the last `SUMMARY_FRAMES` frames.
    """

    source: str
    frames: int
    seconds: float
    mean_fps: float
    latency_ms: dict[str, float]
    preprocess_ms: dict[str, float]
    stop_reason: str
    displayed: bool
    no_digit_frames: int = 0
    source_problem: str | None = None

    @property
    def interrupted(self) -> bool:
        return self.stop_reason == "interrupted"

    @property
    def source_failed(self) -> bool:
        """The source broke: a damaged or cut-off video, a camera lost mid-run."""
        return self.source_problem is not None or self.stop_reason == "camera lost"

    def text(self) -> str:
        lat, pre = self.latency_ms, self.preprocess_ms
        return (
            f"{self.frames} frames in {self.seconds:.2f} s ({self.stop_reason}): "
            f"mean {self.mean_fps:.1f} FPS; "
            f"latency ms p50 {lat['p50']:.3f} p90 {lat['p90']:.3f} p99 {lat['p99']:.3f}; "
            f"preprocess ms p50 {pre['p50']:.3f} p90 {pre['p90']:.3f}; "
            f"no digit in {self.no_digit_frames} frames"
        )


def run_camera(
    config: CameraConfig,
    on_frame: Callable[[FrameResult], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
    on_image: Callable[[np.ndarray, tuple[int, int, int, int], FrameResult], None] | None = None,
) -> CameraSummary:
    """Run until the stream ends, `frames` are done, the user quits or presses Ctrl-C.

    `on_frame` sees every processed frame; `on_notice` gets one-off remarks (e.g. running
    headless); `on_image` gets each frame's picture as read (copy it before drawing on it, e.g.
    with `preview.draw_overlay`), its search region and its result. Ctrl-C is not an error here:
    it ends the run and the summary says so.
    """
    _validate(config)
    notice = on_notice or (lambda _msg: None)
    classifier = Classifier(
        load_model(config.model, backend=config.backend, threads=config.threads),
        CAMERA if config.find_card else DEFAULT,
    )
    source = open_source(config.source, loop=config.loop, realtime=config.realtime)
    preview = open_preview(config.display, notice)
    tally = _Tally(config.smooth)
    reason = "end of stream"
    try:
        reason = _loop(config, source, classifier, preview, tally, on_frame, on_image)
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        source.close()
        problem = source.problem()
        if problem is not None:
            notice(problem)
        if preview is not None:
            preview.close()
    return tally.summary(config.source, reason, preview is not None, problem)


def _validate(config: CameraConfig) -> None:
    if config.frames is not None and config.frames < 1:
        raise ConfigError(f"--frames must be at least 1, got {config.frames}")
    if config.smooth < 1:
        raise ConfigError(f"--smooth must be at least 1, got {config.smooth}")
    lim.check_int("--smooth", config.smooth, 1, lim.MAX_SMOOTH)
    lim.check_threads(config.threads)
    if not 0.05 <= config.roi <= 1.0:
        raise ConfigError(f"--roi must be between 0.05 and 1 (of the frame height), got {config.roi}")


def _loop(config: CameraConfig, source: FrameSource, classifier: Classifier, preview: Preview | None,
          tally: _Tally, on_frame: Callable | None, on_image: Callable | None) -> str:
    """Frames until a stop; the reason it stopped."""
    while True:
        if config.frames is not None and tally.frames >= config.frames:
            return "frame limit"
        frame = source.read()
        if frame is None:
            return source.end_reason
        roi = center_roi(frame, config.roi)
        x, y, s, _ = roi
        result = tally.add(classifier.classify(frame[y:y + s, x:x + s]))
        if on_frame is not None:
            on_frame(result)
        if on_image is not None:
            on_image(frame, roi, result)
        if preview is not None and preview.show(draw_overlay(frame.copy(), roi, result)) in QUIT_KEYS:
            return "quit"


class _Tally:
    """Per-frame results and the run's totals, smoothing included.

    Timings for the summary's percentiles: the most recent frames only, so a camera left
    running for days (30 FPS is 2.6 million frames a day) does not grow without bound.
    """

    def __init__(self, smooth: int) -> None:
        self.latencies: deque[float] = deque(maxlen=SUMMARY_FRAMES)
        self.prep_times: deque[float] = deque(maxlen=SUMMARY_FRAMES)
        self.recent: deque[int | None] = deque(maxlen=smooth)
        self.fps = RollingFps(1.0)
        self.frames = self.no_digit = 0
        self.t_start = time.perf_counter()

    def add(self, pred: Prediction) -> FrameResult:
        if self.frames == 0:
            self.t_start = time.perf_counter()  # do not count the camera's warm-up as slowness
        self.latencies.append(pred.latency_ms)
        self.prep_times.append(pred.preprocess_ms)
        self.no_digit += pred.label is None
        label, conf = _smoothed(self.recent, pred)
        result = FrameResult(self.frames, label, conf, pred.latency_ms, pred.preprocess_ms, self.fps.tick(),
                             pred.label, pred)
        self.frames += 1
        return result

    def summary(self, source: str, reason: str, displayed: bool, problem: str | None) -> CameraSummary:
        n = self.frames
        seconds = time.perf_counter() - self.t_start if n else 0.0
        return CameraSummary(
            source=source, frames=n, seconds=seconds, mean_fps=n / seconds if seconds > 0 else 0.0,
            latency_ms=percentiles(self.latencies), preprocess_ms=percentiles(self.prep_times),
            stop_reason=reason, displayed=displayed, no_digit_frames=self.no_digit, source_problem=problem,
        )


def _smoothed(recent: deque[int | None], pred: Prediction) -> tuple[int | None, float | None]:
    """Majority label over the last K frames (ties: the most recent), with a confidence for it."""
    recent.append(pred.label)
    if recent.maxlen == 1:
        return pred.label, pred.confidence
    counts = Counter(recent)
    best = max(counts.values())
    label: int | None = pred.label
    for lab in reversed(recent):  # most recent among the tied
        if counts[lab] == best:
            label = lab
            break
    if label is None:
        return None, None
    if label == pred.label:
        return label, pred.confidence
    # The current frame disagrees: report the majority's share of the window as its confidence.
    return label, best / len(recent)
