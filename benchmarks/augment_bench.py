"""Issue 9 benchmark: the same training with and without `--augment`, measured on photos.

    python benchmarks/augment_bench.py RUN_DIR [RUN_DIR ...] --photos /work/photos-bench [--tune]
        [--json OUT.json]

Each RUN_DIR is a `cnn-edge train` run converted with `cnn-edge convert --run RUN_DIR --int8`.
Per run: MNIST test accuracy (float from metrics.json, int8 from manifest.json), the fixed photo
set through the runtime's own `Classifier.classify` (mnist/, sklearn/), the card video through
`run_camera` (`raw_label` against cards.csv), and sklearn's glyphs cut clean to 28x28 (no camera:
the ceiling). All int8, 1 interpreter thread.

Also the handwriting fonts that training never uses (`cnn_edge.trainer.font_digits`, every fifth
font): each glyph as a clean scan and in 3 photo renders (seed 4242), other writers at full
resolution beside sklearn's 8x8 scans.

--tune adds the set the augmentation was tuned on, never the fixed set: fresh renders (seed 777)
of the sklearn glyphs with index % 5 != 0 only. The fixed photo set is the held-out result; its
photos of glyphs with index % 5 == 0 are also reported alone (glyphs never looked at in tuning).
No TensorFlow is imported.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from cnn_edge.device.camera import CameraConfig, run_camera
from cnn_edge.edge_runtime.classify import Classifier
from cnn_edge.edge_runtime.interpreter import load_model
from cnn_edge.edge_runtime.preprocess import DEFAULT, preprocess
from cnn_edge.testing import synthetic_photos as sp
from cnn_edge.trainer.font_digits import load_font_digits

TUNE_SEED = 777
FONT_PHOTO_SEED = 4242
FONT_PHOTO_RENDERS = 3
FIXED_SET_SEED = 20240  # benchmarks/make_photo_sets.py SEED
N_FIXED_SKLEARN = 1000


def _rate(right: int, n: int) -> dict[str, float | int]:
    return {"right": int(right), "n": int(n), "acc": right / n if n else float("nan")}


def photo_scores(clf: Classifier, photos: Path) -> dict[str, dict]:
    """The fixed photo set through the runtime's classify; sklearn also split by glyph index % 5."""
    import cv2

    out: dict[str, dict] = {}
    # make_photo_set draws its glyph order first from a fresh generator seeded like this.
    glyph_of = np.random.default_rng(FIXED_SET_SEED).permutation(1797)[:N_FIXED_SKLEARN]
    for name in ("mnist", "sklearn"):
        right = n = held_right = held_n = 0
        for item in sp.read_labels(photos / name):
            label = clf.classify(cv2.imread(str(item.path), cv2.IMREAD_UNCHANGED)).label
            n += 1
            right += label == item.label
            if name == "sklearn" and glyph_of[int(Path(item.path).stem)] % 5 == 0:
                held_n += 1
                held_right += label == item.label
        out[name] = _rate(right, n)
        if name == "sklearn":
            out["sklearn glyphs %5==0"] = _rate(held_right, held_n)
    return out


def video_scores(model: Path, photos: Path) -> dict[str, dict]:
    truth = []
    with open(photos / "cards.csv", newline="") as f:
        for row in csv.DictReader(f):
            truth.append((int(row["label"]) if row["label"] else None, row["source"]))
    seen = []
    run_camera(
        CameraConfig(model=model, source=str(photos / "cards.avi"), display=False, threads=1),
        on_frame=seen.append,
    )
    assert len(seen) == len(truth), (len(seen), len(truth))
    counts = {k: [0, 0] for k in ("cards all", "cards mnist", "cards sklearn", "room -> no digit")}
    for res, (label, source) in zip(seen, truth, strict=True):
        if label is None:
            counts["room -> no digit"][0] += res.raw_label is None
            counts["room -> no digit"][1] += 1
            continue
        for key in ("cards all", f"cards {source}"):
            counts[key][0] += res.raw_label == label
            counts[key][1] += 1
    return {k: _rate(*v) for k, v in counts.items()}


def clean_sklearn(clf: Classifier) -> dict[str, dict]:
    """All 1,797 sklearn glyphs as a perfect scan cut by `preprocess`: the ceiling for photos."""
    sk = sp.sklearn_glyphs()
    right = {0: 0, 1: 0}
    n = {0: 0, 1: 0}
    for i, (mask, label) in enumerate(zip(sk.masks, sk.labels, strict=True)):
        digit = preprocess(sp.clean_scan(mask), DEFAULT)
        part = int(i % 5 != 0)
        n[part] += 1
        right[part] += digit is not None and clf.classify_digit(digit).label == label
    return {
        "sklearn clean": _rate(right[0] + right[1], n[0] + n[1]),
        "sklearn clean %5==0": _rate(right[0], n[0]),
        "sklearn clean %5!=0": _rate(right[1], n[1]),
    }


def held_out_fonts(clf: Classifier) -> dict[str, dict]:
    """The fonts no training sees, clean (a perfect scan) and as photos."""
    held = load_font_digits().split(held_out=True)
    clean = 0
    for mask, label in zip(held.masks, held.labels, strict=True):
        digit = preprocess(sp.clean_scan(mask), DEFAULT)
        clean += digit is not None and clf.classify_digit(digit).label == label
    # Playwrite styles are one design team's school scripts for many countries: a held-out one has
    # trained siblings, so the other held-out fonts are also counted alone.
    sibling = [held.font_names[f].startswith("playwrite") for f in held.font]
    rng = np.random.default_rng(FONT_PHOTO_SEED)
    photos, others, n_others = 0, 0, 0
    for _ in range(FONT_PHOTO_RENDERS):
        for mask, label, has_sibling in zip(held.masks, held.labels, sibling, strict=True):
            right = clf.classify(sp.render_photo(mask, rng)).label == label
            photos += right
            if not has_sibling:
                others, n_others = others + right, n_others + 1
    return {
        "held-out fonts clean": _rate(clean, len(held)),
        "held-out fonts photos": _rate(photos, FONT_PHOTO_RENDERS * len(held)),
        "held-out fonts photos, not Playwrite": _rate(others, n_others),
    }


def tune_scores(clf: Classifier, n: int = 1000) -> dict[str, dict]:
    """Fresh renders of the tuning glyphs (index % 5 != 0), seed 777: what the knobs were tuned on."""
    sk = sp.sklearn_glyphs()
    tune = sk.take([i for i in range(len(sk)) if i % 5 != 0])
    rng = np.random.default_rng(TUNE_SEED)
    order = rng.permutation(len(tune))[:n]
    right = 0
    for i in order:
        photo = sp.render_photo(tune.masks[i], rng)
        right += clf.classify(photo).label == tune.labels[i]
    return {"tune: sklearn %5!=0 renders (seed 777)": _rate(right, len(order))}


def measure(run: Path, photos: Path, tune: bool) -> dict:
    metrics = json.loads((run / "metrics.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    int8 = next(m for m in manifest["models"] if m["format"] == "int8")
    model = run / int8["file"]
    clf = Classifier(load_model(model, threads=1))
    res = {
        "run": str(run),
        "augment": metrics.get("augment"),
        "epochs": metrics["epochs"],
        "seconds_per_epoch": metrics["seconds_per_epoch"],
        "mnist test float": metrics["test_accuracy"],
        "mnist test int8": int8["accuracy"],
    }
    res.update(photo_scores(clf, photos))
    res.update(video_scores(model, photos))
    res.update(clean_sklearn(clf))
    res.update(held_out_fonts(clf))
    if tune:
        res.update(tune_scores(clf))
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--photos", type=Path, required=True)
    ap.add_argument("--tune", action="store_true", help="also the tuning renders (not the fixed set)")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    results = [measure(run, a.photos, a.tune) for run in a.runs]
    for r in results:
        print(r["run"])
        for k, v in r.items():
            if isinstance(v, dict) and "acc" in v:
                print(f"  {k:<40} {v['acc']:.2%} ({v['right']}/{v['n']})")
            elif isinstance(v, float):
                print(f"  {k:<40} {v:.4f}")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
