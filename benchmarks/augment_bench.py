"""Issues 9 and 16 benchmark: `cnn-edge train` recipes measured on writers the model never saw.

    python benchmarks/augment_bench.py RUN_DIR [RUN_DIR ...] [--photos /work/photos-bench] [--tune]
        [--json OUT.json]

Each RUN_DIR is a `cnn-edge train` run converted with `cnn-edge convert --run RUN_DIR --int8`.
Everything is int8 through the runtime's own `Classifier`, 1 interpreter thread; no TensorFlow.

Per run: MNIST test accuracy (float from metrics.json, int8 from manifest.json), then the held-out
writers of other people's real handwriting (`cnn_edge.trainer.other_writers`: optdigits windep,
pendigits writers 30-43, semeion block 5, all of mfeat), each digit as a clean scan (the runtime's
`preprocess` of the digit drawn 128 px high; pendigits redrawn from its pen trajectory with one
10-px pen) and, for up to 1,000 digits per set, as a camera-like photo from the renderer
(`cnn_edge.testing.synthetic_photos.render_photo`, seed 16016 + set number) through `classify`.
Also the handwriting fonts that training never uses, clean and in 3 photo renders (seed 4242).

--photos adds the fixed set of benchmarks/make_photo_sets.py: photos of MNIST test digits and the
card video (`run_camera`, `raw_label` against cards.csv). Its writers/ photos are not read: the
held-out writers above are every digit clean and 1,000 per set as photos.
--tune adds the validation writers (optdigits cv, pendigits 27-29, semeion block 4), clean: the
only other-writer figures a recipe may be chosen on.
--validation-only measures MNIST and the validation writers and nothing held out (no held-out
writers, fonts or photos): for choosing a recipe before its one look at the held-out figures.
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
from cnn_edge.trainer.other_writers import SETS, load_set
from cnn_edge.trainer.writer_images import frame_like_mnist, glyph_mask

FONT_PHOTO_SEED = 4242
FONT_PHOTO_RENDERS = 3
WRITER_PHOTO_SEED = 16016
WRITER_PHOTOS_PER_SET = 1000


def _rate(right: int, n: int) -> dict[str, float | int]:
    return {"right": int(right), "n": int(n), "acc": right / n if n else float("nan")}


def photo_scores(clf: Classifier, photos: Path) -> dict[str, dict]:
    """The fixed set's photos of MNIST test digits through the runtime's classify."""
    import cv2

    right = n = 0
    for item in sp.read_labels(photos / "mnist"):
        n += 1
        right += clf.classify(cv2.imread(str(item.path), cv2.IMREAD_UNCHANGED)).label == item.label
    return {"mnist photos": _rate(right, n)}


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


def other_writers(clf: Classifier, role: str, photos: bool) -> dict[str, dict]:
    """Every digit of `role` ("test": held out, "val": tuning) clean; up to 1,000 per set as photos."""
    out: dict[str, dict] = {}
    for k, name in enumerate(SETS):
        ws = load_set(name)
        rows = ws.indices(role)
        if not len(rows):
            continue
        right = 0
        for i in rows:
            digit = frame_like_mnist(glyph_mask(ws, int(i)))
            right += digit is not None and clf.classify_digit(digit).label == ws.y[i]
        out[f"{name} {role} clean"] = _rate(right, len(rows))
        if photos:
            rng = np.random.default_rng(WRITER_PHOTO_SEED + k)
            pick = rng.choice(rows, min(WRITER_PHOTOS_PER_SET, len(rows)), replace=False)
            right = sum(
                clf.classify(sp.render_photo(glyph_mask(ws, int(i)), rng)).label == ws.y[i] for i in pick
            )
            out[f"{name} {role} photos"] = _rate(right, len(pick))
    return out


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


def measure(run: Path, photos: Path | None, tune: bool, held_out: bool = True) -> dict:
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
        "other_writer_images": metrics.get("other_writer_images", {}),
        "font_digit_images": metrics.get("font_digit_images", 0),
    }
    if held_out:
        res.update(other_writers(clf, "test", photos=True))
        res.update(held_out_fonts(clf))
        if photos is not None:
            res.update(photo_scores(clf, photos))
            res.update(video_scores(model, photos))
    if tune:
        res.update(other_writers(clf, "val", photos=False))
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--photos", type=Path, default=None, help="the fixed set of make_photo_sets.py")
    ap.add_argument("--tune", action="store_true", help="also the validation writers (clean)")
    ap.add_argument("--validation-only", action="store_true",
                    help="MNIST and the validation writers only: no held-out figure is computed")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    results = [measure(run, a.photos, a.tune or a.validation_only, held_out=not a.validation_only)
               for run in a.runs]
    for r in results:
        print(r["run"])
        for k, v in r.items():
            if isinstance(v, dict) and "acc" in v:
                print(f"  {k:<40} {v['acc']:.2%} ({v['right']}/{v['n']})")
            elif isinstance(v, float):
                print(f"  {k:<40} {v:.4f}")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
