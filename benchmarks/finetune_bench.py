"""Fine-tuning to "someone else's handwriting": before/after, MNIST forgetting, int8, the MNIST ratio sweep.

The handwriting is scikit-learn's 1,797 digits (13 writers MNIST never saw), rendered as camera
photos by `cnn_edge.testing.synthetic_photos` at seeds unlike the fixed benchmark set's (20240...). The
glyphs are split BY INDEX, so the fine-tuning photos and the measuring photos share no glyph
(not only no render): glyphs 0-899 give the fine-tuning samples (--samples photos, one per glyph),
glyphs 900-1796 give the disjoint test photos (all 897, one each). A photo where the runtime's
preprocessing finds no digit counts as an error (the runtime would show "no digit").

For each MNIST-per-sample ratio and seed, `cnn_edge.finetune.finetune` runs on a copy of the
parent run (the parent is never modified); the disjoint photos are then classified by the Keras
model. The default ratio's seed-0 run is converted with --int8 and its int8 model measured too.

    python benchmarks/finetune_bench.py --run /work/runs-bench/cosine-holdout --work /tmp/ftbench \
        --json benchmarks/results/finetune.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from cnn_edge.finetune import FinetuneConfig, finetune
from cnn_edge.finetune.config import DEFAULT_MNIST_RATIO
from cnn_edge.testing import synthetic_photos as sp

SPLIT = 900  # glyphs [0, 900) fine-tune, [900, 1797) measure
RENDER_SEED = 7007
FRAME = (640, 480)


def photo_inputs(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The runtime's 28x28 of every photo (zeros where none is found), labels, found mask, count of none."""
    from cnn_edge.edge_runtime.images import load_image
    from cnn_edge.edge_runtime.preprocess import DEFAULT, preprocess

    items = sp.read_labels(folder)
    xs, missing = [], 0
    for item in items:
        digit = preprocess(load_image(item.path), DEFAULT)
        missing += digit is None
        xs.append(np.zeros((28, 28), np.uint8) if digit is None else digit)
    found = np.array([x.any() for x in xs])
    return np.stack(xs), np.array([i.label for i in items]), found, missing


def keras_accuracy(model_path: Path, x: np.ndarray, y: np.ndarray, found: np.ndarray) -> float:
    import keras

    model = keras.models.load_model(model_path)
    pred = np.argmax(model.predict(x.astype("float32"), batch_size=512, verbose=0), axis=1)
    return float(((pred == y) & found).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("/work/runs-bench/cosine-holdout"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/ftbench"))
    ap.add_argument("--samples", type=int, default=400, help="fine-tuning photos (from glyphs 0-899)")
    ap.add_argument("--ratios", default="0,1,5,20")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--learning-rate", type=float, default=1e-3)
    ap.add_argument("--no-conv", action="store_true", help="skip the --train-conv comparison run")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    parent = work / "parent"
    if not parent.exists():
        parent.mkdir()
        for name in ("model.keras", "metrics.json"):
            shutil.copy(args.run / name, parent / name)
    gs = sp.sklearn_glyphs()
    samples, test = work / "samples", work / "test"
    if not (samples / sp.LABELS_FILE).exists():
        sp.make_photo_set(samples, gs.take(range(SPLIT)), n=args.samples, seed=RENDER_SEED, layout="folders",
                          frame_size=FRAME)
    if not (test / sp.LABELS_FILE).exists():
        sp.make_photo_set(test, gs.take(range(SPLIT, len(gs))), seed=RENDER_SEED + 1, frame_size=FRAME)
    x_test, y_test, found, no_digit = photo_inputs(test)
    print(f"disjoint test photos: {len(y_test)} (no digit found in {no_digit})", flush=True)

    before = keras_accuracy(parent / "model.keras", x_test, y_test, found)
    print(f"parent: other writers {before:.2%}", flush=True)
    rows = []
    configs = [(float(r), int(s), False) for r in args.ratios.split(",") for s in args.seeds.split(",")]
    if not args.no_conv:
        configs.append((DEFAULT_MNIST_RATIO, 0, True))
    for ratio, seed, train_conv in configs:
        out = work / f"ft-r{ratio:g}-s{seed}-lr{args.learning_rate:g}{'-conv' if train_conv else ''}"
        t0 = time.perf_counter()
        r = finetune(FinetuneConfig(run=parent, samples=samples, out=out, mnist_ratio=ratio, seed=seed,
                                    epochs=args.epochs, train_conv=train_conv, force=True, holdout=0.1,
                                    learning_rate=args.learning_rate))
        seconds = time.perf_counter() - t0
        after = keras_accuracy(r.model_path, x_test, y_test, found)
        row = {"ratio": ratio, "learning_rate": args.learning_rate, "seed": seed, "train_conv": train_conv,
               "samples_train": r.samples_train,
               "mnist_images": r.mnist_images, "other_before": before, "other_after": after,
               "mnist_before": r.mnist_before, "mnist_after": r.mnist_after,
               "holdout_before": r.holdout_before, "holdout_after": r.holdout_after,
               "train_seconds": round(r.train_seconds, 1), "seconds": round(seconds, 1), "run": str(out)}
        rows.append(row)
        print(json.dumps(row), flush=True)

    from cnn_edge.converter import ConvertConfig, convert
    from cnn_edge.edge_runtime.interpreter import load_model

    chosen = work / f"ft-r{DEFAULT_MNIST_RATIO:g}-s0-lr{args.learning_rate:g}"
    conv = convert(ConvertConfig(run=chosen, formats=("float32", "int8")))
    int8 = load_model(chosen / "model_int8.tflite")
    pred = int8.predict(x_test.astype("float32"), batch_size=500)
    int8_row = {"run": str(chosen), "mnist_int8": conv.models["int8"].accuracy,
                "mnist_float32_tflite": conv.models["float32"].accuracy,
                "other_int8": float(((pred == y_test) & found).mean())}
    print(json.dumps(int8_row), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"test_photos": int(len(y_test)), "no_digit": int(no_digit),
                                         "parent_other_writers": before, "rows": rows, "int8": int8_row},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()
