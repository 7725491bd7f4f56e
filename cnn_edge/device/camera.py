"""`cnn-edge infer --camera`: classify the digit held up in the middle of a camera's view.

Sources: a camera index (OpenCV/V4L2), a video file, a stream URL, or `picamera2` (the Pi's
CSI camera, which OpenCV cannot open through libcamera). Live sources are read on their own
thread that keeps only the newest frame, so a slow model shows the present, not a growing
backlog; a video file is read in order with none dropped, so a run is reproducible (its
decoding still runs on a thread, ahead of the model, for speed).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common import limits as lim
from cnn_edge.common.errors import CameraError, ConfigError
from cnn_edge.common.quiet import native_stderr_silenced
from cnn_edge.edge_runtime.classify import Classifier, Prediction
from cnn_edge.edge_runtime.interpreter import load_model
from cnn_edge.edge_runtime.preprocess import CAMERA, DEFAULT, center_roi
from cnn_edge.measure.stats import RollingFps, percentiles

WINDOW = "cnn-edge"
PICAMERA2 = "picamera2"
# The summary's latency percentiles cover at most this many recent frames (~55 min at 30 FPS).
SUMMARY_FRAMES = 100_000
# How long a live camera may stay silent before it counts as unplugged.
STALL_SECONDS = 5.0
# Unreadable frames in a row a video file may have before it counts as broken off.
MAX_BAD_FRAMES = 25


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


# --------------------------------------------------------------------------- sources


class FrameSource:
    """A source of BGR frames; `read()` returns None at the end (see `end_reason`)."""

    live = False
    end_reason = "end of stream"

    def read(self) -> np.ndarray | None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - interface
        pass

    def problem(self) -> str | None:
        """A one-line remark on how the source ended, if the user should know (a damaged file)."""
        return None


class VideoFileSource(FrameSource):
    """Every frame of a file, in order; a thread decodes a few frames ahead of the model.

    A damaged frame is skipped, and a file that breaks off before the frame count in its
    header ends the run normally: `problem()` then says what happened. With `loop`, the file
    is replayed from its start whenever it ends. With `realtime`, frames come at the file's
    own frame rate and only the newest is kept, as from a camera.
    """

    def __init__(self, capture: Any, name: str = "video", loop: bool = False, realtime: bool = False) -> None:
        import cv2

        self._cap = capture
        self._name = name
        self._loop = loop
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0) if realtime else 0.0
        # A file that does not say its frame rate (or says nonsense) plays at 30 FPS.
        self._period = 0.0 if not realtime else 1.0 / (fps if 1.0 <= fps <= 1000.0 else 30.0)
        self._declared = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        self._first_pass = 0  # frames decoded before the file first ended
        self._skipped = 0  # damaged frames passed over on the way
        self._ended_once = False
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=1 if realtime else 8)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="video-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import cv2

        bad = pass_frames = 0
        due = time.perf_counter()
        try:
            while not self._stop.is_set():
                ok, frame = self._cap.read()
                if not ok or frame is None:
                    position = int(self._cap.get(cv2.CAP_PROP_POS_FRAMES) or 0)
                    if bad < MAX_BAD_FRAMES and position < self._declared:
                        bad += 1  # a damaged frame: the ones after it may still decode
                        continue
                    self._ended_once = True
                    if self._loop and pass_frames and self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0):
                        bad = pass_frames = 0
                        continue
                    break
                self._skipped += bad if not self._ended_once else 0
                bad = 0
                pass_frames += 1
                if not self._ended_once:
                    self._first_pass += 1
                if self._period:
                    due = self._pace(due)
                    self._put_newest(frame)
                    continue
                while not self._stop.is_set():
                    try:
                        self._queue.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        finally:
            self._put_end()

    def _pace(self, due: float) -> float:
        """Sleep until the next frame is due; returns when the one after it is."""
        due += self._period
        now = time.perf_counter()
        if due < now - 1.0:  # more than a second behind (a suspended machine): catch up at once
            due = now
        self._stop.wait(max(0.0, due - now))
        return due

    def _put_newest(self, frame: np.ndarray) -> None:
        """A camera does not wait for the model: a frame still unread is replaced."""
        try:
            self._queue.get_nowait()
        except queue.Empty:
            pass
        try:
            self._queue.put_nowait(frame)
        except queue.Full:  # pragma: no cover - only this thread puts
            pass

    def _put_end(self) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(None, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self) -> np.ndarray | None:
        while True:
            try:
                return self._queue.get(timeout=0.2)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._cap.release()

    def problem(self) -> str | None:
        if not self._ended_once:
            return None
        # Container frame counts can be estimates: allow 1% before calling a file cut short.
        if self._first_pass + 1 + self._declared // 100 < self._declared:
            return (f"{self._name}: only {self._first_pass} of the {self._declared} frames its header "
                    "announces could be decoded (the file is truncated or damaged)")
        n = self._skipped
        return f"{self._name}: skipped {n} damaged frame{'' if n == 1 else 's'}" if n else None


class LatestFrameSource(FrameSource):
    """A live camera read on its own thread; `read()` gives the newest frame not yet returned.

    Keeping only the newest frame is what keeps the preview live: a queue would fill up
    whenever the model is slower than the camera and show ever older pictures.
    """

    live = True

    def __init__(self, grab: Callable[[], np.ndarray | None], release: Callable[[], None]) -> None:
        self._grab = grab
        self._release = release
        self._cond = threading.Condition()
        self._frame: np.ndarray | None = None
        self._seq = 0
        self._returned = 0
        self._done = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_ok = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    frame = self._grab()
                except Exception:  # a driver error mid-stream is the camera going away
                    frame = None
                now = time.monotonic()
                if frame is None:
                    if now - last_ok > STALL_SECONDS:
                        self.end_reason = "camera lost"
                        break
                    time.sleep(0.01)
                    continue
                last_ok = now
                with self._cond:
                    self._frame = frame
                    self._seq += 1
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def read(self) -> np.ndarray | None:
        with self._cond:
            # A short wait in a loop (not one long wait) so Ctrl-C reaches the main thread.
            while self._seq == self._returned and not self._done:
                self._cond.wait(timeout=0.1)
            if self._seq == self._returned:
                return None
            self._returned = self._seq
            return self._frame

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._release()


def open_source(spec: str, loop: bool = False, realtime: bool = False) -> FrameSource:
    """Open a camera index, video file, URL or picamera2; `CameraError` with one line if it fails.

    `loop` replays a video file from its start whenever it ends; `realtime` plays it at its own
    frame rate. Both do nothing for live sources.
    """
    spec = spec.strip()
    if spec.lower() == PICAMERA2:
        return _open_picamera2()
    import cv2

    if spec.lstrip("-").isdigit():
        index = int(spec)
        with native_stderr_silenced():  # OpenCV warns on fd 2 for every index it cannot open
            if sys.platform.startswith("linux"):
                cap = cv2.VideoCapture(index, cv2.CAP_V4L2)
            else:
                cap = cv2.VideoCapture(index)
            opened = cap.isOpened()
        if not opened:
            cap.release()
            raise CameraError(
                f"camera {index} cannot be opened",
                hint="check that it is plugged in and not used by another program (`ls /dev/video*`); "
                "for a Raspberry Pi camera module use --source picamera2",
            )
        return _live_from_capture(cap, f"camera {index}")
    if "://" in spec:
        with native_stderr_silenced():
            cap = cv2.VideoCapture(spec)
            opened = cap.isOpened()
        if not opened:
            cap.release()
            raise CameraError(f"stream {spec} cannot be opened",
                              hint="check the URL and that the stream is running")
        return _live_from_capture(cap, spec)
    path = Path(spec)
    if not path.is_file():
        raise CameraError(
            f"no video file or camera {spec!r}",
            hint="pass --source with a camera index (0, 1, ...), a video file, a stream URL or picamera2",
        )
    with native_stderr_silenced():
        cap = cv2.VideoCapture(str(path))
        opened = cap.isOpened()
    if not opened:
        cap.release()
        raise CameraError(f"{path} is not a video file OpenCV can read")
    return VideoFileSource(cap, str(path), loop=loop, realtime=realtime)


def _live_from_capture(cap: Any, name: str) -> FrameSource:
    def grab() -> np.ndarray | None:
        ok, frame = cap.read()
        return frame if ok else None

    src = LatestFrameSource(grab, cap.release)
    return src


def _open_picamera2() -> FrameSource:
    try:
        from picamera2 import Picamera2  # type: ignore[import-not-found]
    except Exception as exc:
        raise CameraError(
            f"--source picamera2 needs the picamera2 library, which is not importable ({type(exc).__name__})",
            hint="on Raspberry Pi OS: `sudo apt install python3-picamera2` and create the venv with "
            "--system-site-packages",
        ) from None
    try:
        cam = Picamera2()
        # RGB888 in libcamera's naming is BGR byte order in memory: what OpenCV expects.
        cam.configure(cam.create_video_configuration(main={"size": (640, 480), "format": "RGB888"}))
        cam.start()
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else repr(exc)
        raise CameraError(f"the Raspberry Pi camera cannot be started ({first})",
                          hint="check the ribbon cable and that no other program uses the camera") from None

    def release() -> None:
        try:
            cam.stop()
            cam.close()
        except Exception:
            pass

    return LatestFrameSource(cam.capture_array, release)


# --------------------------------------------------------------------------- display


def display_problem() -> str | None:
    """Why no preview window can be shown here, or None if one can."""
    import cv2

    info = cv2.getBuildInformation()
    gui_line = next((ln for ln in info.splitlines() if ln.strip().startswith("GUI:")), "")
    if "NONE" in gui_line.upper():
        return ("this OpenCV has no window support (opencv-python-headless); "
                "install cnn-edge[edge-gui] for a preview window")
    has_display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and not has_display:
        return "no display (DISPLAY is not set)"
    try:
        with native_stderr_silenced():
            cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE)
    except cv2.error as exc:
        return f"cannot open a window ({str(exc).strip().splitlines()[-1][:80]})"
    return None


def draw_overlay(frame: np.ndarray, roi: tuple[int, int, int, int], result: FrameResult) -> np.ndarray:
    """The region, the answer, its confidence, FPS and latency, and the 28x28 the model saw."""
    import cv2

    x, y, s, _ = roi
    found = result.label is not None
    colour = (0, 200, 0) if found else (0, 160, 255)
    cv2.rectangle(frame, (x, y), (x + s, y + s), colour, 2)
    text = f"{result.label}  {result.confidence:.0%}" if found else "no digit"
    cv2.putText(frame, text, (x, max(30, y - 10)), cv2.FONT_HERSHEY_SIMPLEX, 1.0, colour, 2, cv2.LINE_AA)
    stats = f"{result.fps:5.1f} FPS  model {result.latency_ms:.2f} ms  prep {result.preprocess_ms:.2f} ms"
    cv2.putText(frame, stats, (10, frame.shape[0] - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1,
                cv2.LINE_AA)
    digit = result.prediction.digit
    if digit is not None and frame.shape[0] >= 90 and frame.shape[1] >= 90:
        inset = cv2.resize(digit, (84, 84), interpolation=cv2.INTER_NEAREST)
        frame[4:88, 4:88] = inset[:, :, None] if frame.ndim == 3 else inset
    return frame


# --------------------------------------------------------------------------- loop


def run_camera(
    config: CameraConfig,
    on_frame: Callable[[FrameResult], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
    on_image: Callable[[np.ndarray, tuple[int, int, int, int], FrameResult], None] | None = None,
) -> CameraSummary:
    """Run until the stream ends, `frames` are done, the user quits or presses Ctrl-C.

    `on_frame` sees every processed frame; `on_notice` gets one-off remarks (e.g. running
    headless); `on_image` gets each frame's picture as read (copy it before drawing on it, e.g.
    with `draw_overlay`), its search region and its result. Ctrl-C is not an error here: it
    ends the run and the summary says so.
    """
    if config.frames is not None and config.frames < 1:
        raise ConfigError(f"--frames must be at least 1, got {config.frames}")
    if config.smooth < 1:
        raise ConfigError(f"--smooth must be at least 1, got {config.smooth}")
    lim.check_int("--smooth", config.smooth, 1, lim.MAX_SMOOTH)
    lim.check_threads(config.threads)
    if not 0.05 <= config.roi <= 1.0:
        raise ConfigError(f"--roi must be between 0.05 and 1 (of the frame height), got {config.roi}")
    notice = on_notice or (lambda _msg: None)
    classifier = Classifier(
        load_model(config.model, backend=config.backend, threads=config.threads),
        CAMERA if config.find_card else DEFAULT,
    )
    source = open_source(config.source, loop=config.loop, realtime=config.realtime)

    show = False
    if config.display:
        problem = display_problem()
        if problem is None:
            show = True
        else:
            notice(f"running headless: {problem}")

    # Timings for the summary's percentiles: the most recent frames only, so a camera left
    # running for days (30 FPS is 2.6 million frames a day) does not grow without bound.
    latencies: deque[float] = deque(maxlen=SUMMARY_FRAMES)
    prep_times: deque[float] = deque(maxlen=SUMMARY_FRAMES)
    recent: deque[int | None] = deque(maxlen=config.smooth)
    fps = RollingFps(1.0)
    n = no_digit = 0
    reason = "end of stream"
    t_start = time.perf_counter()
    try:
        while True:
            if config.frames is not None and n >= config.frames:
                reason = "frame limit"
                break
            frame = source.read()
            if frame is None:
                reason = source.end_reason
                break
            if n == 0:
                t_start = time.perf_counter()  # do not count the camera's warm-up as slowness
            roi = center_roi(frame, config.roi)
            x, y, s, _ = roi
            pred = classifier.classify(frame[y:y + s, x:x + s])
            latencies.append(pred.latency_ms)
            prep_times.append(pred.preprocess_ms)
            no_digit += pred.label is None
            label, conf = _smoothed(recent, pred)
            result = FrameResult(n, label, conf, pred.latency_ms, pred.preprocess_ms, fps.tick(),
                                 pred.label, pred)
            n += 1
            if on_frame is not None:
                on_frame(result)
            if on_image is not None:
                on_image(frame, roi, result)
            if show:
                import cv2

                cv2.imshow(WINDOW, draw_overlay(frame.copy(), roi, result))
                key = cv2.waitKey(1) & 0xFF
                if key in (ord("q"), ord("Q"), 27):
                    reason = "quit"
                    break
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        source.close()
        problem = source.problem()
        if problem is not None:
            notice(problem)
        if show:
            import cv2

            try:
                cv2.destroyAllWindows()
            except cv2.error:
                pass
    seconds = time.perf_counter() - t_start if n else 0.0
    return CameraSummary(
        source=config.source,
        frames=n,
        seconds=seconds,
        mean_fps=n / seconds if seconds > 0 else 0.0,
        latency_ms=percentiles(latencies),
        preprocess_ms=percentiles(prep_times),
        stop_reason=reason,
        displayed=show,
        no_digit_frames=no_digit,
        source_problem=problem,
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
