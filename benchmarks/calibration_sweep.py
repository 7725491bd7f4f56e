"""int8 accuracy vs calibration size and sampling (class-balanced vs random), against float32.

    python benchmarks/calibration_sweep.py --run /work/runs-bench/full-holdout [--seeds 0 1 2]

Uses the converter's own pieces (SavedModel export, formats table, LiteRT verification) and
the shipped evaluation set (10,000 MNIST test images). Prints a markdown report on stdout.
- balanced: `cnn_edge.converter.calibration.select` on the shipped class-balanced set (what
  `cnn-edge convert` does);
- random: a seeded uniform draw from the same pool of MNIST training images (first 55,000).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cnn_edge.calibration_data import load_calibration_set, load_evaluation_set
from cnn_edge.calibration_data.build import POOL
from cnn_edge.common.formats import BY_NAME
from cnn_edge.common.mnist import load_mnist
from cnn_edge.converter import DEFAULT_CALIBRATION_SAMPLES, export, verify
from cnn_edge.converter.calibration import select
from cnn_edge.converter.manifest import versions


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        name = next(
            (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), "?"
        )
    except OSError:
        name = platform.processor() or "?"
    import os

    v = versions()
    return (
        f"{name}, {len(os.sched_getaffinity(0))} usable cores, {platform.system()} {platform.machine()}; "
        f"Python {v['python']}, numpy {v['numpy']}, "
        f"TensorFlow {v.get('tensorflow-cpu', v.get('tensorflow'))}, "
        f"Keras {v.get('keras')}, ai-edge-litert {v.get('ai-edge-litert')}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", type=Path, required=True, help="run directory with model.keras")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500, 1000, 2000])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    sizes = sorted(set(args.sizes) | {DEFAULT_CALIBRATION_SAMPLES})

    eval_x, eval_y = load_evaluation_set()
    cal_x, cal_y = load_calibration_set()
    train_x = load_mnist(allow_download=False).x_train[:POOL]
    keras_model = export.load_keras_model(args.run / "model.keras")
    f32_fmt, i8_fmt = BY_NAME["float32"], BY_NAME["int8"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        saved = export.export_saved_model(keras_model, Path(tmp) / "sm")
        f32_bytes = export.convert_format(saved, f32_fmt, "int8", None)
        (Path(tmp) / "f32.tflite").write_bytes(f32_bytes)
        f32_acc, f32_pred = verify.accuracy(
            verify.verify(Path(tmp) / "f32.tflite", f32_fmt, "int8"), eval_x, eval_y
        )
        print(f"float32: {f32_acc:.4%}", file=sys.stderr)
        for n in sizes:
            for sampling in ("balanced", "random"):
                for seed in args.seeds:
                    if sampling == "balanced":
                        idx, _ = select(cal_x, cal_y, n, seed)
                        images = cal_x[idx].astype(np.float32)
                    else:
                        images = train_x[np.random.default_rng(seed).choice(POOL, n, replace=False)].astype(
                            np.float32
                        )
                    t0 = time.perf_counter()
                    blob = export.convert_format(saved, i8_fmt, "int8", images)
                    conv_s = time.perf_counter() - t0
                    path = Path(tmp) / "i8.tflite"
                    path.write_bytes(blob)
                    acc, pred = verify.accuracy(verify.verify(path, i8_fmt, "int8"), eval_x, eval_y)
                    rows.append(
                        (
                            n,
                            sampling,
                            seed,
                            acc,
                            (f32_acc - acc) * 100,
                            float((pred == f32_pred).mean()),
                            len(blob),
                            conv_s,
                        )
                    )
                    print(
                        f"n={n} {sampling} seed={seed}: {acc:.4%} loss {(f32_acc - acc) * 100:+.2f} pp "
                        f"({conv_s:.1f} s)",
                        file=sys.stderr,
                    )

    print(f"Machine: {machine()}\n")
    print(
        f"Model: {args.run / 'model.keras'}; float32 TFLite accuracy {f32_acc:.2%} "
        f"({len(f32_bytes):,} bytes); int8 size {rows[0][6]:,} bytes "
        f"= {rows[0][6] / len(f32_bytes):.2%} of float32\n"
    )
    print(
        "| calibration images | sampling | seeds | int8 accuracy (mean, min-max) | loss vs float32 pp "
        "(mean, max) | agreement with float32 | conversion s |"
    )
    print("|---:|---|---|---|---|---|---:|")
    for n in sizes:
        for sampling in ("balanced", "random"):
            r = [row for row in rows if row[0] == n and row[1] == sampling]
            accs = np.array([x[3] for x in r])
            loss = np.array([x[4] for x in r])
            agree = np.array([x[5] for x in r])
            print(
                f"| {n} | {sampling} | {len(r)} | {accs.mean():.2%} ({accs.min():.2%}-{accs.max():.2%}) | "
                f"{loss.mean():+.3f} ({loss.max():+.2f}) | {agree.mean():.2%} | "
                f"{np.mean([x[7] for x in r]):.1f} |"
            )
    print("\nPer run (size, sampling, seed, accuracy, loss pp):\n")
    for n, sampling, seed, acc, loss, *_ in rows:
        print(f"- {n} {sampling} seed {seed}: {acc:.2%}, {loss:+.2f} pp")
    return 0


if __name__ == "__main__":
    sys.exit(main())
