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


@contextlib.contextmanager
def sigint_recorded() -> Iterator[list[int]]:
    """Inside, Ctrl-C raises KeyboardInterrupt as ever, and the yielded list records that it came.

    A KeyboardInterrupt that lands while Python runs an object's `__del__` (TensorFlow frees a
    traced function or a dataset iterator every epoch) is printed as "Exception ignored" and
    lost: the job goes on as if no key was pressed. The record lets a long loop raise it again
    at its next step. Where SIGINT is not Python's own handler (ignored under nohup, or not the
    main thread) it is left alone.
    """
    interrupted: list[int] = []

    def on_sigint(signum: int, frame: object) -> None:
        interrupted.append(signum)
        raise KeyboardInterrupt

    try:
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            yield interrupted
            return
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread
        yield interrupted
        return
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)
