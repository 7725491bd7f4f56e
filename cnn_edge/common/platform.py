"""Platform facts every stage agrees on: which CPUs are 32-bit ARM, how many cores we may use.

A Raspberry Pi running 32-bit Pi OS reports `armv7l` (Pi 2-4) or `armv6l` (Pi Zero/1); a 64-bit
kernel with a 32-bit userland can report `armv8l`; Debian's architecture name is `armhf`, and
some containers say plain `arm`. LiteRT ships no wheels for any of them (tflite-runtime does).
"""

from __future__ import annotations

import os

ARM32 = frozenset({"armv6l", "armv7l", "armv8l", "armhf", "arm"})


def is_arm32(machine: str) -> bool:
    """Whether `machine` (platform.machine() or `uname -m` of a device) is a 32-bit ARM CPU."""
    return machine.lower() in ARM32


def usable_cores() -> int:
    """All cores this process may use (respects CPU affinity, e.g. under taskset or containers).

    Also the interpreter's default thread count: every core the process may run on.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)
