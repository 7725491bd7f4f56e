"""Issue 16: does `cnn-edge finetune` adapt to a new group of writers? Before/after, int8.

    python benchmarks/finetune_writers_bench.py --run /work/bench/ft-base --work /tmp/ftw \
        --writers-a 30-36 --writers-b 37-43 --seeds 0,1 --json benchmarks/results/finetune_writers.json

The handwriting is pendigits' (UCI; `cnn_edge.trainer.other_writers`), each digit redrawn from its
pen trajectory (`writer_images.glyph_mask`), or with `--source optdigits` the scanned forms of
optdigits' 13 held-out writers (14 inferred forms, 0-13: for a base that never trained on
optdigits, such as a leave-one-source-out run, the case of a source the model never saw), each
rendered as a camera-like photo (`cnn_edge.testing.synthetic_photos.render_photo`). Writers A
give the samples: `--per-class` digits of each class of each writer (7 x 10 x 7 = ~490),
written as `cnn-edge collect` writes them (SAMPLES/<digit>/<name>.png and, where the runtime
finds a digit, its `.28x28.png` twin).
Measured on three sets, BEFORE (the base run's int8) and AFTER (the fine-tuned run converted
with `convert --int8`, the default calibration), all through the runtime's `preprocess` (a
photo where no digit is found counts as an error), int8 in LiteRT:

  (a) writers A's OTHER digits (never in the samples): the user's own handwriting;
  (b) writers B (never in the samples): a new population of the same source;
  (c) MNIST test (10,000), from the converted run's manifest.

Error removed = (err_before - err_after) / err_before. `--set key=value` overrides a
FinetuneConfig field (recipe tuning); `--keras` measures the Keras float models instead of
converting (fast, for tuning only). The final test writers (pendigits 30-43) are for the final
measurement; tune on writers 0-29 (a plain base never saw them; 27-29 are the validation writers).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from cnn_edge.edge_runtime.preprocess import DEFAULT, preprocess
from cnn_edge.testing import synthetic_photos as sp
from cnn_edge.trainer.other_writers import load_set
from cnn_edge.trainer.writer_images import glyph_mask

RENDER_SEED = 16160  # samples; +1 writers A's other digits; +2 writers B
# Where each source keeps its writer numbers: pendigits' writers (0-43), and optdigits' 13 held-out
# `windep` writers as the 14 forms inferred for them (every other optdigits row is -1 there).
WRITER_FIELD = {"pendigits": "writer", "optdigits": "windep_form_id_inferred"}


def writer_range(text: str) -> list[int]:
    """ "30-36" -> [30, ..., 36]; "1,4,7" -> [1, 4, 7]."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def split_rows(writer: np.ndarray, y: np.ndarray, a: list[int], b: list[int], per_class: int,
               seed: int) -> dict[str, np.ndarray]:
    """Rows of the samples (per_class of each digit of each A writer), A's other digits, and B."""
    rng = np.random.default_rng(seed)
    samples, others = [], []
    for w in a:
        for d in range(10):
            rows = rng.permutation(np.flatnonzero((writer == w) & (y == d)))
            k = min(per_class, len(rows) - 1)  # at least one digit of each class stays to measure
            samples.extend(rows[:k])
            others.extend(rows[k:])
    return {"samples": np.sort(np.asarray(samples)), "a_other": np.sort(np.asarray(others)),
            "b": np.flatnonzero(np.isin(writer, b))}


def photo_inputs(ws, rows: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The runtime's 28x28 of one photo per row (all zeros where it finds no digit), found mask."""
    rng = np.random.default_rng(seed)
    xs, found = [], []
    for i in rows:
        digit = preprocess(sp.render_photo(glyph_mask(ws, int(i)), rng), DEFAULT)
        found.append(digit is not None)
        xs.append(np.zeros((28, 28), np.uint8) if digit is None else digit)
    return np.stack(xs), np.asarray(found)


def write_samples(ws, rows: np.ndarray, folder: Path, seed: int) -> int:
    """Photos of `rows` in the collect layout; returns how many got a 28x28 twin."""
    import cv2

    rng = np.random.default_rng(seed)
    twins = 0
    for i in rows:
        photo = sp.render_photo(glyph_mask(ws, int(i)), rng)
        d = folder / str(int(ws.y[i]))
        d.mkdir(parents=True, exist_ok=True)
        stem = f"{ws.name}-w{int(ws.fields[WRITER_FIELD[ws.name]][i]):02d}-r{int(i):05d}"
        cv2.imwrite(str(d / f"{stem}.png"), photo)
        digit = preprocess(photo, DEFAULT)
        if digit is not None:
            cv2.imwrite(str(d / f"{stem}.28x28.png"), digit)
            twins += 1
    return twins


def load_sets(args: argparse.Namespace) -> tuple[Path, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """The samples folder and the measuring sets (x, y, found), made once per --work folder."""
    ws = load_set(args.source)
    a, b = writer_range(args.writers_a), writer_range(args.writers_b)
    rows = split_rows(ws.fields[WRITER_FIELD[args.source]], ws.y, a, b, args.per_class, RENDER_SEED)
    samples = args.work / "samples"
    if not samples.exists():
        tmp = args.work / "samples.tmp"
        write_samples(ws, rows["samples"], tmp, RENDER_SEED)
        tmp.rename(samples)
    cache = args.work / "measure_sets.npz"
    if not cache.exists():
        arrays = {}
        for k, name in enumerate(("a_other", "b"), start=1):
            x, found = photo_inputs(ws, rows[name], RENDER_SEED + k)
            arrays.update({f"{name}_x": x, f"{name}_y": ws.y[rows[name]], f"{name}_found": found})
        np.savez_compressed(cache, **arrays)
    with np.load(cache) as f:
        sets = {n: (f[f"{n}_x"], f[f"{n}_y"], f[f"{n}_found"]) for n in ("a_other", "b")}
    print(f"samples: {len(rows['samples'])} photos of writers {args.writers_a} in {samples}; "
          f"A other digits {len(rows['a_other'])}; writers {args.writers_b}: {len(rows['b'])}", flush=True)
    return samples, sets


def accuracies(predict, sets: dict) -> dict[str, float]:
    """Accuracy per measuring set; a photo with no digit found is wrong."""
    return {name: float(((predict(x) == y) & found).mean()) for name, (x, y, found) in sets.items()}


def measure_int8(run: Path, sets: dict) -> dict[str, float]:
    from cnn_edge.edge_runtime.interpreter import load_model

    manifest = json.loads((run / "manifest.json").read_text())
    int8 = next(m for m in manifest["models"] if m["format"] == "int8")
    model = load_model(run / int8["file"], threads=1)
    res = accuracies(lambda x: model.predict(x.astype(np.float32), batch_size=500), sets)
    return res | {"mnist": float(int8["accuracy"])}


def measure_keras(model_path: Path, sets: dict, mnist: float) -> dict[str, float]:
    import keras

    model = keras.models.load_model(model_path)

    def predict(x: np.ndarray) -> np.ndarray:
        return np.argmax(model.predict(x.astype("float32"), batch_size=512, verbose=0), axis=1)

    return accuracies(predict, sets) | {"mnist": mnist}


def parse_sets(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def error_removed(before: float, after: float) -> float | None:
    """Share of the base's errors gone; None when the base made none (nothing to remove)."""
    if before >= 1.0:
        return None
    return ((1 - before) - (1 - after)) / (1 - before)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a converted (--int8) base run")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--source", choices=sorted(WRITER_FIELD), default="pendigits",
                    help="whose writers: pendigits, or optdigits' windep forms 0-13 (a source that a "
                    "leave-one-source-out base never saw)")
    ap.add_argument("--writers-a", default="30-36")
    ap.add_argument("--writers-b", default="37-43")
    ap.add_argument("--per-class", type=int, default=7)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--set", action="append", default=[], help="FinetuneConfig field=value")
    ap.add_argument("--keras", action="store_true", help="Keras float models, no conversion (tuning)")
    ap.add_argument("--tag", default="", help="names the fine-tuned runs")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    from cnn_edge.converter import ConvertConfig, convert
    from cnn_edge.finetune import FinetuneConfig, finetune

    samples, sets = load_sets(args)
    overrides = parse_sets(args.set)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        out = args.work / f"ft{args.tag}-s{seed}"
        t0 = time.perf_counter()
        cfg = FinetuneConfig(run=args.run, samples=samples, out=out, seed=seed, force=True, **overrides)
        r = finetune(cfg)
        if args.keras:
            before = measure_keras(args.run / "model.keras", sets, r.mnist_before)
            after = measure_keras(r.model_path, sets, r.mnist_after)
        else:
            convert(ConvertConfig(run=out, formats=("float32", "int8")))
            before, after = measure_int8(args.run, sets), measure_int8(out, sets)
        row = {"seed": seed, "overrides": overrides, "measured": "keras" if args.keras else "int8",
               "samples_train": r.samples_train, "samples_holdout": r.samples_holdout,
               "holdout_before": r.holdout_before, "holdout_after": r.holdout_after,
               "before": before, "after": after,
               "error_removed": {k: error_removed(before[k], after[k]) for k in ("a_other", "b")},
               "mnist_drop_pp": 100 * (before["mnist"] - after["mnist"]),
               "train_seconds": round(r.train_seconds, 1), "seconds": round(time.perf_counter() - t0, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
