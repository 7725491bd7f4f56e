"""Where camera frames come from: a camera index (OpenCV/V4L2), a video file, a stream URL, or
`picamera2` (the Pi's CSI camera, which OpenCV cannot open through libcamera).

Live sources are read on their own thread that keeps only the newest frame, so a slow model
shows the present, not a growing backlog; a video file is read in order with none dropped, so a
run is reproducible (its decoding still runs on a thread, ahead of the model, for speed).
Every device program that reads frames (`infer --camera`, `collect`, `doctor`) opens them here.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common.errors import CameraError
from cnn_edge.common.quiet import native_stderr_silenced

PICAMERA2 = "picamera2"
# How long a live camera may stay silent before it counts as unplugged.
STALL_SECONDS = 5.0
# Unreadable frames in a row a video file may have before it counts as broken off.
MAX_BAD_FRAMES = 25



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
