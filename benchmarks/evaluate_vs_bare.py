"""Does `evaluate` report the latency a bare interpreter loop measures? (issue 5 target: within 10%)

    python benchmarks/evaluate_vs_bare.py MODEL.tflite [--rounds 5] [--runs 500] [--threads 1]

Alternates, in one process, `evaluate()` (its own load, warm-up, timed invokes) and a bare
`ai_edge_litert` loop (set_tensor + invoke + get_tensor, nothing else) over the same model and
image, so machine noise falls on both alike; prints the p50/mean of each round and the ratio.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def bare_loop(model_path: Path, image: np.ndarray, threads: int, warmup: int, runs: int) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model_path), num_threads=threads)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    scale, zp = inp["quantization"]
    x = image.astype(np.float32).reshape(inp["shape"])
    if scale:
        x = np.clip(np.round(x / scale) + zp, -128, 127)
    x = x.astype(inp["dtype"])
    times = np.empty(runs)
    for i in range(warmup + runs):
        t0 = time.perf_counter_ns()
        it.set_tensor(inp["index"], x)
        it.invoke()
        it.get_tensor(out["index"])
        if i >= warmup:
            times[i - warmup] = (time.perf_counter_ns() - t0) / 1e6
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    from cnn_edge.calibration_data import load_evaluation_set
    from cnn_edge.measure.evaluate import EvaluateConfig, evaluate

    images, _ = load_evaluation_set()
    ev, bare = [], []
    for r in range(args.rounds):
        res = evaluate(EvaluateConfig(model=args.model, reference=None, limit=100, threads=args.threads,
                                      warmup=20, runs=args.runs))
        e = res.model.latency.stats
        b = bare_loop(args.model, images[0], args.threads, 20, args.runs)
        ev.append((e.p50, e.mean))
        bare.append((float(np.median(b)), float(b.mean())))
        print(f"round {r}: evaluate p50 {e.p50:.4f} mean {e.mean:.4f} | bare p50 {bare[-1][0]:.4f} "
              f"mean {bare[-1][1]:.4f} ms")
    ep50, bp50 = np.median([x[0] for x in ev]), np.median([x[0] for x in bare])
    emean, bmean = np.median([x[1] for x in ev]), np.median([x[1] for x in bare])
    print(f"median over rounds: evaluate p50 {ep50:.4f} ms, bare p50 {bp50:.4f} ms, ratio {ep50 / bp50:.3f}; "
          f"mean ratio {emean / bmean:.3f}")


if __name__ == "__main__":
    main()
