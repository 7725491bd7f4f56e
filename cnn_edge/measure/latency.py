"""Latency measured the way TensorFlow's `benchmark_model` does it, plus what it leaves out.

- init time: model load + tensor allocation (`load_model`);
- first inference: the first invoke after loading (XNNPACK packs weights lazily, so it is slow);
- warm-up invokes, then timed single-image invokes: count, mean, std, min, p50/p90/p99, max.

Only `set_tensor + invoke + get_tensor` is timed (`TfliteModel.invoke_prepared`): the input is
quantized once beforehand, exactly like benchmark_model feeds a ready tensor.
`round_robin` times several callables in alternating blocks, so that noise from other processes
on a shared machine falls on all of them alike and their ratios stay meaningful.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.measure.stats import percentiles
from cnn_edge.measure.sysinfo import current_rss_bytes

STAT_KEYS = ("mean", "std", "min", "p50", "p90", "p99", "max")


@dataclass(frozen=True)
class LatencyStats:
    """Summary of timed invokes, in milliseconds (`count` = number of timed invokes)."""

    count: int
    mean: float
    std: float
    min: float
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def from_samples(cls, samples_ms: np.ndarray) -> LatencyStats:
        s = np.asarray(samples_ms, dtype=np.float64)
        if s.size == 0:
            return cls(0, *(0.0,) * 7)
        p = percentiles(s, (50, 90, 99))
        return cls(int(s.size), float(s.mean()), float(s.std()), float(s.min()),
                   p["p50"], p["p90"], p["p99"], float(s.max()))

    def to_dict(self) -> dict[str, float]:
        """The JSON form: the seven statistics (count is reported beside them)."""
        d = asdict(self)
        d.pop("count")
        return d


@dataclass(frozen=True)
class LatencyReport:
    """One model's timing: start-up costs and the steady-state statistics.

    Fields:
        init_ms: load + allocate time of the model.
        first_inference_ms: the first invoke after loading.
        stats: the timed single-image invokes after warm-up.
        warmup: number of untimed warm-up invokes.
        model_rss_bytes: resident memory the loaded model added (None where unreadable).
        samples_ms: every timed invoke (for histograms; not part of the JSON summary).
    """

    init_ms: float
    first_inference_ms: float
    stats: LatencyStats
    warmup: int
    model_rss_bytes: int | None
    samples_ms: tuple[float, ...] = ()


def time_calls(fn: Callable[[], Any], *, warmup: int, runs: int) -> np.ndarray:
    """Call `fn` `warmup` times untimed, then `runs` times timed; return the times in ms."""
    for _ in range(warmup):
        fn()
    out = np.empty(runs, dtype=np.float64)
    clock = time.perf_counter_ns
    for i in range(runs):
        t0 = clock()
        fn()
        out[i] = (clock() - t0) / 1e6
    return out


def round_robin(fns: Mapping[str, Callable[[], Any]], *, warmup: int, runs: int,
                block: int = 20) -> dict[str, np.ndarray]:
    """Time several callables `runs` times each, alternating in blocks of `block` calls.

    Blocks (rather than one call each) keep each model's weights warm in the cache, as in a
    real application that runs one model; alternating spreads machine noise over all of them.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[np.ndarray]] = {name: [] for name in fns}
    done = 0
    while done < runs:
        n = min(block, runs - done)
        for name, fn in fns.items():
            samples[name].append(time_calls(fn, warmup=1, runs=n))
        done += n
    return {name: np.concatenate(parts) if parts else np.empty(0) for name, parts in samples.items()}


def single_invoke(model: Any, image: np.ndarray) -> Callable[[], np.ndarray]:
    """A zero-argument call that runs `model` on one prepared image (preparation not timed)."""
    tensor = model.prepare_input(np.asarray(image)[None] if np.ndim(image) == 2 else image)
    return lambda: model.invoke_prepared(tensor)


def load_timed(path: str | Path, *, backend: str = "auto", threads: int | None = None,
               image: np.ndarray) -> tuple[Any, float, float, int | None]:
    """Load a model and run it once: (model, init ms, first-inference ms, RSS added by the model)."""
    from cnn_edge.edge_runtime.interpreter import available_backends, load_model

    available_backends()  # import the backend now: its import is not part of this model's init time
    rss0 = current_rss_bytes()
    t0 = time.perf_counter_ns()
    model = load_model(path, backend=backend, threads=threads)
    init_ms = (time.perf_counter_ns() - t0) / 1e6
    call = single_invoke(model, image)
    t0 = time.perf_counter_ns()
    call()
    first_ms = (time.perf_counter_ns() - t0) / 1e6
    rss1 = current_rss_bytes()
    added = rss1 - rss0 if rss0 is not None and rss1 is not None else None
    return model, init_ms, first_ms, added


def measure_model(path: str | Path, *, image: np.ndarray, warmup: int = 10, runs: int = 200,
                  backend: str = "auto", threads: int | None = None) -> tuple[Any, LatencyReport]:
    """benchmark_model for one file: load (timed), first invoke (timed), warm-up, `runs` timed invokes."""
    model, init_ms, first_ms, rss = load_timed(path, backend=backend, threads=threads, image=image)
    samples = time_calls(single_invoke(model, image), warmup=warmup, runs=runs)
    return model, LatencyReport(init_ms, first_ms, LatencyStats.from_samples(samples), warmup, rss,
                                tuple(float(x) for x in samples))


def batched_throughput(model: Any, images: np.ndarray, *, batch: int, min_images: int = 512,
                       warmup: int = 2) -> float:
    """Images per second when feeding `batch` images per invoke (the interpreter is resized)."""
    batch = max(1, min(batch, len(images)))
    tensor = model.prepare_input(images[:batch])
    calls = max(1, -(-min_images // batch))
    times = time_calls(lambda: model.invoke_prepared(tensor), warmup=warmup, runs=calls)
    model.invoke_prepared(model.prepare_input(images[:1]))  # back to batch 1 for single-image timing
    return float(batch * calls / (times.sum() / 1e3))
