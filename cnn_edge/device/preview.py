"""The preview window every device program shares: the search region, the answer, the 28x28 the
model saw, and the quit keys (q or Esc). Without a display it is not opened and the program runs
headless (`display_problem` says why).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from cnn_edge.common.quiet import native_stderr_silenced

WINDOW = "cnn-edge"
QUIT_KEYS = (ord("q"), ord("Q"), 27)  # 27: Esc



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


def draw_overlay(frame: np.ndarray, roi: tuple[int, int, int, int], result: Any) -> np.ndarray:
    """`infer --camera`'s view: the region, the answer, its confidence, FPS and latency, the 28x28."""
    import cv2

    x, y, _, _ = roi
    found = result.label is not None
    colour = draw_region(frame, roi, found, result.prediction.digit)
    text = f"{result.label}  {result.confidence:.0%}" if found else "no digit"
    cv2.putText(frame, text, (x, max(30, y - 10)), cv2.FONT_HERSHEY_SIMPLEX, 1.0, colour, 2, cv2.LINE_AA)
    draw_footer(frame, f"{result.fps:5.1f} FPS  model {result.latency_ms:.2f} ms  "
                       f"prep {result.preprocess_ms:.2f} ms")
    return frame


def draw_region(frame: np.ndarray, roi: tuple[int, int, int, int], found: bool,
                digit: np.ndarray | None) -> tuple[int, int, int]:
    """The search region (green: a digit, orange: none) and, top left, the 28x28 the model saw.

    Returns the colour used, for text drawn beside it.
    """
    import cv2

    x, y, s, _ = roi
    colour = (0, 200, 0) if found else (0, 160, 255)
    cv2.rectangle(frame, (x, y), (x + s, y + s), colour, 2)
    if digit is not None and frame.shape[0] >= 90 and frame.shape[1] >= 90:
        inset = cv2.resize(digit, (84, 84), interpolation=cv2.INTER_NEAREST)
        frame[4:88, 4:88] = inset[:, :, None] if frame.ndim == 3 else inset
    return colour


def draw_footer(frame: np.ndarray, text: str) -> None:
    """A line of white text along the frame's bottom edge."""
    import cv2

    cv2.putText(frame, text, (10, frame.shape[0] - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1,
                cv2.LINE_AA)


class Preview:
    """The window: `show(view)` returns the key pressed (0-255, 255 for none); `close()` at the end."""

    def show(self, view: np.ndarray) -> int:
        import cv2

        cv2.imshow(WINDOW, view)
        return cv2.waitKey(1) & 0xFF

    def close(self) -> None:
        import cv2

        try:
            cv2.destroyAllWindows()
        except cv2.error:
            pass


def open_preview(wanted: bool, notice: Any) -> Preview | None:
    """A preview window when `wanted` and this machine can show one; else None, said once."""
    if not wanted:
        return None
    problem = display_problem()
    if problem is not None:
        notice(f"running headless: {problem}")
        return None
    return Preview()
