"""Digits written with a real pen's width: does the photo path find and read thin strokes?

    python benchmarks/ballpoint_bench.py RUN_DIR [RUN_DIR ...] [--pens 2,3,4.5,10] [--json OUT.json]

MNIST's strokes are about a tenth of the digit's height, and so are the renderer's (its "thin
pen" condition is two thirds of the glyph's own width). A ballpoint on a digit 1-2 cm high draws
2-5% of the height. Pendigits recorded the pen's path, so its digits can be drawn again with any
pen: here the VALIDATION writers (27-29, 749 digits; the held-out writers are not looked at by a
diagnostic that may steer the runtime) with pens of 2-10% of the height (`writer_images.
glyph_mask`, the trajectory's longer side 100 px on a 128-px canvas), each photographed once per
pen by the benchmark renderer with the digit's own seed, so every pen shares all drawn settings
(frame size, light, blur, noise, JPEG) and only the stroke differs (`stroke_scale` 1: the pen as
drawn). Per run and pen, int8 through `Classifier.classify` (1 interpreter thread): digits read
right, "no digit" answers (counted as errors), and the clean scan's reading (`frame_like_mnist`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from cnn_edge.common.atomic import write_text
from cnn_edge.edge_runtime.classify import Classifier
from cnn_edge.edge_runtime.interpreter import load_model
from cnn_edge.testing import synthetic_photos as sp
from cnn_edge.trainer.other_writers import load_set
from cnn_edge.trainer.writer_images import frame_like_mnist, glyph_mask

SEED = 2929


def read_pens(classifiers: dict[str, Classifier], pens: list[float]) -> dict[str, dict[str, dict[str, int]]]:
    """{run: {pen: {"n", "photo", "no digit", "clean"}}} over the pendigits validation writers."""
    ws = load_set("pendigits")
    rows = ws.indices("val")
    out = {run: {} for run in classifiers}
    for pen in pens:
        counts = {run: {"n": len(rows), "photo": 0, "no digit": 0, "clean": 0} for run in classifiers}
        for k, i in enumerate(rows):
            mask, label = glyph_mask(ws, int(i), pen=pen), int(ws.y[i])
            photo = sp.render_photo(mask, np.random.default_rng([SEED, k]), stroke_scale=1.0)
            clean = frame_like_mnist(mask)
            for run, clf in classifiers.items():
                answer = clf.classify(photo).label
                c = counts[run]
                c["photo"] += answer == label
                c["no digit"] += answer is None
                c["clean"] += clean is not None and clf.classify_digit(clean).label == label
        for run in classifiers:
            out[run][f"{pen:g}"] = counts[run]
    return out


def table(results: dict[str, dict[str, dict[str, int]]]) -> str:
    """Markdown: per pen and run, photos read right ("no digit" answers) / clean scans read right."""
    runs = list(results)
    heads = " | ".join(f"{run}: photos (no digit) / clean" for run in runs)
    lines = [f"| pen (% of the digit's height) | {heads} |", "|---|" + "---|" * len(runs)]
    for pen in next(iter(results.values())):
        cells = []
        for run in runs:
            c = results[run][pen]
            cells.append(f"{c['photo'] / c['n']:.2%} ({c['no digit']}) / {c['clean'] / c['n']:.2%}")
        lines.append(f"| {pen} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--pens", default="2,3,4.5,10", help="pen widths, % of the digit's height")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    pens = [float(p) for p in args.pens.split(",") if p]
    classifiers = {run.name: Classifier(load_model(run / "model_int8.tflite", threads=1))
                   for run in args.runs}
    results = read_pens(classifiers, pens)
    print("pendigits validation writers (27-29), one photo per digit and pen, int8\n")
    print(table(results))
    if args.json:
        write_text(args.json, json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
