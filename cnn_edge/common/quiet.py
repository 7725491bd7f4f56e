"""Silence the C++ chatter of LiteRT, TensorFlow and OpenCV so the user sees only our lines.

LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." straight to file
descriptor 2 from C++, where Python's `sys.stderr` cannot catch it, so the descriptor itself
is pointed at /dev/null for the few calls that print. Python exceptions are unaffected.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

# Set before any TensorFlow/LiteRT/OpenCV import so that their loggers start quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_VIDEOIO_DEBUG", "0")
# FFmpeg (OpenCV's video decoder) logs every damaged frame of a video to fd 2, from its own
# reader thread; -8 is AV_LOG_QUIET. Damage is reported as one line by the camera loop instead.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point fd 2 at /dev/null for the duration (a no-op where fd 2 cannot be duplicated)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
