"""SIGTERM handled like Ctrl-C: a service manager (systemd, a container) stopping a long job.

Both long jobs use it: training (its checkpoint is kept, exit 143) and the camera loop (the
camera is released and the summary printed).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator


def sigterm_raises(
    exception: Callable[[], BaseException] = KeyboardInterrupt,
) -> contextlib.AbstractContextManager[list[int]]:
    """Inside, SIGTERM raises `exception()` in the main thread; the yielded list records that it came.

    Outside the main thread (where Python cannot set handlers) signals are left alone.
    """
    return _raising_and_recorded(signal.SIGTERM, exception)


def sigint_recorded() -> contextlib.AbstractContextManager[list[int]]:
    """Inside, Ctrl-C raises KeyboardInterrupt as ever, and the yielded list records that it came.

    A KeyboardInterrupt that lands while Python runs an object's `__del__` (TensorFlow frees a
    traced function or a dataset iterator every epoch) is printed as "Exception ignored" and
    lost: the job goes on as if no key was pressed. The record lets a long loop raise it again
    at its next step. Where SIGINT is not Python's own handler (ignored under nohup, or not the
    main thread) it is left alone.
    """
    return _raising_and_recorded(signal.SIGINT, KeyboardInterrupt, only_over=signal.default_int_handler)


@contextlib.contextmanager
def _raising_and_recorded(
    signum: int, exception: Callable[[], BaseException], only_over: object = None
) -> Iterator[list[int]]:
    """Inside, signal `signum` raises `exception()` and is recorded in the yielded list.

    `only_over`: install the handler only if this is the current one (else leave it alone).
    Outside the main thread (where Python cannot set handlers) nothing is installed.
    """
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        raise exception()

    try:
        if only_over is not None and signal.getsignal(signum) is not only_over:
            yield received
            return
        previous = signal.signal(signum, on_signal)
    except ValueError:  # not the main thread
        yield received
        return
    try:
        yield received
    finally:
        signal.signal(signum, previous)
