"""SIGTERM handled like Ctrl-C: a service manager (systemd, a container) stopping a long job.

Both long jobs use it: training (its checkpoint is kept, exit 143) and the camera loop (the
camera is released and the summary printed).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def sigterm_raises(exception: Callable[[], BaseException] = KeyboardInterrupt) -> Iterator[list[int]]:
    """Inside, SIGTERM raises `exception()` in the main thread; the yielded list records that it came.

    Outside the main thread (where Python cannot set handlers) signals are left alone.
    """
    terminated: list[int] = []

    def on_sigterm(signum: int, frame: object) -> None:
        terminated.append(signum)
        raise exception()

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread
        yield terminated
        return
    try:
        yield terminated
    finally:
        signal.signal(signal.SIGTERM, previous)
