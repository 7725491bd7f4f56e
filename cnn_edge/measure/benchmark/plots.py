"""The benchmark's pictures: latency bars per format, int8 confusion matrix, latency histogram.

Importing this module imports matplotlib (Agg: no display needed); `report` catches the
ImportError and notes that the PNGs were skipped.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cnn_edge.common.atomic import atomic_path  # noqa: E402
from cnn_edge.measure.benchmark.config import BenchmarkResult  # noqa: E402


def _save(fig: plt.Figure, target: Path) -> Path:
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return target


def write_plots(r: BenchmarkResult) -> dict[str, Path]:
    out: dict[str, Path] = {}
    rows = [x for x in r.rows if x.error is None]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    x = np.arange(len(rows))
    one = [x_.p50_1t_ms or 0 for x_ in rows]
    allc = [x_.p50_all_ms or 0 for x_ in rows]
    ax.bar(x - 0.2, one, 0.4, label="p50, 1 thread")
    ax.bar(x + 0.2, allc, 0.4, label=f"p50, {r.cores} threads")
    ax.set_xticks(x, [x_.name for x_ in rows])
    ax.set_ylabel("ms per image")
    ax.set_yscale("log")
    ax.set_title("Single-image latency per format (log scale)")
    ax.legend()
    out["latency_png"] = _save(fig, r.run / "benchmark_latency.png")

    if r.confusion_int8 is not None:
        cm = np.array(r.confusion_int8)
        fig, ax = plt.subplots(figsize=(5.5, 5))
        ax.imshow(np.log1p(cm), cmap="Blues")
        for i in range(10):
            for j in range(10):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if i == j else "black")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title("int8 confusion matrix")
        out["confusion_png"] = _save(fig, r.run / "benchmark_confusion_int8.png")

    fig, ax = plt.subplots(figsize=(7, 3.8))
    for row in rows:
        if row.samples_1t_ms:
            s = np.asarray(row.samples_1t_ms)
            ax.hist(s, bins=np.geomspace(max(s.min(), 1e-3), s.max() * 1.01, 60), alpha=0.5, label=row.name)
    ax.set_xscale("log")
    ax.set_xlabel("ms per image (1 thread)")
    ax.set_ylabel("invokes")
    ax.set_title("Latency histogram")
    ax.legend()
    out["histogram_png"] = _save(fig, r.run / "benchmark_latency_hist.png")
    return out
