"""What does checking a model before loading it cost? (issue 17: sub-millisecond for a 1 MB model)

    python benchmarks/model_check_bench.py RUN_DIR [--repeat 200]

For each .tflite in a converted run: the header check (`check_model_bytes`), the manifest's
sha256 (`check_manifest`), and the whole `load_model` against a bare interpreter load of the
same bytes, each the median of `--repeat` runs in one process (ratios from one run). Prints a
Markdown table with the machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    from ai_edge_litert.interpreter import Interpreter

    from cnn_edge.edge_runtime.interpreter import load_model
    from cnn_edge.edge_runtime.model_check import check_manifest, check_model_bytes
    from cnn_edge.measure.sysinfo import system_info

    info = system_info()
    print(f"machine: {info.cpu or info.arch}, {info.cores} cores, {info.os}, Python {info.python}\n")
    print("| model | size | header check ms | manifest sha256 ms | bare interpreter load ms "
          "| load_model ms |")
    print("|---|---|---|---|---|---|")
    for path in sorted(args.run.glob("*.tflite")):
        row = measure(path, args.repeat, Interpreter, load_model, check_model_bytes, check_manifest)
        size = path.stat().st_size / 1e6
        print(f"| {path.name} | {size:.2f} MB | " + " | ".join(f"{v:.3f}" for v in row) + " |")


def measure(path: Path, repeat: int, interpreter, load_model, check_model_bytes,
            check_manifest) -> list[float]:
    """Median ms of: header check, manifest sha256, bare interpreter load, load_model."""
    data = path.read_bytes()
    loads = max(repeat // 10, 5)
    return [
        median_ms(lambda: check_model_bytes(data, path), repeat),
        median_ms(lambda: check_manifest(data, path), repeat),
        median_ms(lambda: interpreter(model_content=data, num_threads=1).allocate_tensors(), loads),
        median_ms(lambda: load_model(path, threads=1), loads),
    ]


if __name__ == "__main__":
    main()
