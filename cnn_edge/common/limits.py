"""Ranges of the numeric options, checked in each command's config validation.

Typer takes any integer Python can hold and any float, NaN and infinity included; without
these bounds `--smooth 99999999999999999999` overflowed a C size (a traceback, then a native
abort) and `--runs 1e20` asked numpy for an impossible array. Every bound is far beyond any
useful value, so it only stops values that cannot work.
"""

from __future__ import annotations

import math

from cnn_edge.common.errors import ConfigError

MAX_SEED = 2**32 - 1  # numpy's and TensorFlow's seeds are 32-bit
MAX_THREADS = 1024
MAX_EPOCHS = 100_000
MAX_BATCH = 65_536
MAX_HIDDEN_UNITS = 65_536
MAX_FONT_DIGITS = 1_000
MAX_SMOOTH = 10_000  # frames of majority voting kept in memory
MAX_TIMED_RUNS = 10_000_000  # timed invokes: about 3 hours at 1 ms each
MAX_CALIBRATION = 1_000_000
MAX_RATIO = 1_000.0
MAX_INTERVAL_S = 86_400.0  # a day between two collected samples
MAX_LOSS_PP = 100.0  # an accuracy loss in percentage points
MAX_LATENCY_MS = 3_600_000.0  # an hour per image
MAX_DEVICES = 100_000  # a fleet, or its canaries
MAX_PARALLEL = 256  # devices deployed at once: each is an ssh process and a thread here

# Images: a 48 MP phone photo (8000x6000) is the largest a user passes on purpose, so the
# default leaves it room; its 8-bit BGR bitmap is 144 MB, which a 1 GB Pi can still decode.
# A decompression bomb claims far more (a 10 kB file can claim 1,024 MP). The environment
# variable raises or lowers the limit; cnn_edge/__init__ hands it to OpenCV as well.
MAX_IMAGE_PIXELS = 50_000_000
MAX_IMAGE_PIXELS_ENV = "CNN_EDGE_MAX_IMAGE_PIXELS"


def check_int(option: str, value: int | None, low: int, high: int) -> None:
    """`value` (an option's, None when not given) must lie in [low, high]."""
    if value is not None and not low <= value <= high:
        raise ConfigError(f"{option} must be between {low:,} and {high:,}, got {value}")


def check_float(option: str, value: float | None, low: float, high: float, *, low_open: bool = False) -> None:
    """`value` must be a finite number in [low, high] (or (low, high] with `low_open`)."""
    if value is None:
        return
    above = value > low if low_open else value >= low
    if not (math.isfinite(value) and above and value <= high):
        bracket = "(" if low_open else "["
        raise ConfigError(f"{option} must be a number in {bracket}{low:g}, {high:g}], got {value}")


def check_seed(value: int) -> None:
    check_int("--seed", value, 0, MAX_SEED)


def check_threads(value: int | None) -> None:
    check_int("--threads", value, 1, MAX_THREADS)
