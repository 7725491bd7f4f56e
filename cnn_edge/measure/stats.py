"""Small timing statistics for the camera loop: rolling FPS and latency percentiles."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable

import numpy as np


class RollingFps:
    """Frames per second over the frames of the last `window_s` seconds.

    A rolling window (not a lifetime mean) so the preview reacts within a second when the
    model or the camera slows down, yet does not flicker from frame to frame.
    """

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_s = window_s
        self._stamps: deque[float] = deque()

    def tick(self, now: float | None = None) -> float:
        """Record one frame at `now` (default: monotonic clock) and return the current FPS."""
        now = time.perf_counter() if now is None else now
        self._stamps.append(now)
        while len(self._stamps) > 1 and now - self._stamps[0] > self.window_s:
            self._stamps.popleft()
        return self.fps

    @property
    def fps(self) -> float:
        if len(self._stamps) < 2:
            return 0.0
        span = self._stamps[-1] - self._stamps[0]
        return (len(self._stamps) - 1) / span if span > 0 else 0.0


def percentiles(values: Iterable[float], ps: Iterable[float] = (50, 90, 99)) -> dict[str, float]:
    """{"p50": ..., "p90": ..., ...} of `values`; zeros when there are none (an empty run)."""
    arr = np.asarray(list(values), dtype=np.float64)
    ps = list(ps)
    if arr.size == 0:
        return {f"p{p:g}": 0.0 for p in ps}
    return {f"p{p:g}": float(v) for p, v in zip(ps, np.percentile(arr, ps), strict=True)}
