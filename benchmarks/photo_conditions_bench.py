"""Which photo conditions cost accuracy? One condition at a time, paired, on validation writers.

    python benchmarks/photo_conditions_bench.py RUN_DIR [RUN_DIR ...] [--per-set 300]
        [--conditions dim,shadow] [--json OUT.json]

Each RUN_DIR is a `cnn-edge train` run converted with `cnn-edge convert --int8`; everything is
int8 through the runtime's own `Classifier.classify` (1 interpreter thread, no TensorFlow).

The digits are the other writers' VALIDATION writers (optdigits `cv`, pendigits 27-29, semeion
block 4; `cnn_edge.trainer.other_writers`): a diagnostic that may guide the camera path must not
look at the held-out writers. Each digit is rendered once per condition by the benchmark photo
renderer (`cnn_edge.testing.synthetic_photos`) from the same seed, so every photo of a digit
shares all its drawn settings (size, place, light, noise, ...) except the one field a condition
fixes (or is cut from the "as drawn" photo: the crop rows): the difference to the "as drawn" row
is that condition's cost, digit by digit. The "in a number" rows are photos of their own (the
digit between two neighbours, aimed at): compare them with their row "without its neighbours",
the same photos with only the neighbours' ink left out. The "box" rows write the digit in a
box printed on a form (`in_printed_box`), the "line" rows over a line or on it (`underlined`),
every drawn setting shared with "as drawn" (`on_a_rule`: a line across the photo). A photo in
which the runtime finds no digit counts as an error. The conditions are the renderer's own
extremes (`PhotoRanges`, mostly its "hard" preset), not worse.
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
from cnn_edge.trainer.writer_images import glyph_mask

SEED = 27027
VALIDATION_SETS = ("optdigits", "pendigits", "semeion")
BLUE_INK = (0.55, 0.28, 0.18)  # the renderer's blue ballpoint reflectance

# name -> the PhotoParams fields it fixes (every other setting as drawn for that photo).
CONDITIONS: dict[str, dict[str, object]] = {
    "as drawn": {},
    "clean: no lines, shadow, blur, card edge; dark ink": dict(
        lines=None, shadow=0.0, motion=0.0, defocus=0.0, card_edge=False, ink_darkness=0.9,
        jpeg_quality=90),
    "ruled paper, strongest lines": dict(lines="ruled", line_contrast=0.14),
    "squared paper, strongest lines": dict(lines="grid", line_contrast=0.14),
    "pencil-light ink (absorbs 45%)": dict(ink_darkness=0.45),
    "blue ballpoint": dict(ink_bgr=BLUE_INK),
    "strong shadow across the frame": dict(shadow=0.55),
    "motion blur 8% of the digit": dict(motion=0.08),
    "out of focus (sigma 3% of the digit)": dict(defocus=0.03),
    "dim (exposure 0.4)": dict(exposure=0.4),
    "steep light falloff (0.6)": dict(gradient=0.6),
    "small digit (12% of the frame)": dict(digit_height=0.12),
    "JPEG quality 30": dict(jpeg_quality=30),
    "desk beside the paper (card edge)": dict(card_edge=True),
    "heavy sensor noise (read 10, shot 1)": dict(read_noise=10.0, shot_noise=1.0),
    "thin pen (0.65 of the glyph's width)": dict(stroke_scale=0.65),
    "thick marker (1.6 of the glyph's width)": dict(stroke_scale=1.6),
    "large digit (80% of the frame)": dict(digit_height=0.8),
    "dark corners (vignette 0.5)": dict(vignette=0.5),
}


def validation_digits(per_set: int) -> list[tuple[np.ndarray, int]]:
    """(ink mask, label) of up to `per_set` validation-writer digits of each set, a fixed draw."""
    rng = np.random.default_rng(SEED)
    out = []
    for name in VALIDATION_SETS:
        ws = load_set(name)
        rows = ws.indices("val")
        for i in rng.choice(rows, min(per_set, len(rows)), replace=False):
            out.append((glyph_mask(ws, int(i)), int(ws.y[i])))
    return out


# name -> the margin left round the digit's ink box when the photo is cut to it (a fraction of the
# digit's size): photos cropped by a user or a data set rather than framed by a camera.
CROPS: dict[str, float] = {
    "cut at the digit's ink box (no margin)": 0.0,
    "cut with a 5% margin round the digit": 0.05,
}


def cropped(mask: np.ndarray, k: int, margin: float) -> np.ndarray:
    """Digit `k`'s "as drawn" photo cut round its digit, `margin` of the digit's size left, then JPEG."""
    info = sp.render_photo_info(mask, np.random.default_rng([SEED, k]))
    x0, y0, x1, y1 = info.bbox
    pad = int(round(margin * max(x1 - x0, y1 - y0)))
    h, w = info.image.shape[:2]
    cut = info.image[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)]
    return sp.jpeg_roundtrip(np.ascontiguousarray(cut), info.params.jpeg_quality)


# name -> (reach, with the neighbours): the digit written in a number (its neighbours 0.3 of its
# height away, other validation digits), photographed aimed at it, `reach` digit heights each side
# of its centre; "without" is the same photo, every draw shared, the neighbours' ink left out.
NUMBERS: dict[str, tuple[float, bool]] = {
    "in a number, the same photo without its neighbours": (0.9, False),
    "in a number, neighbours cut by the frame's edges": (0.9, True),
    "in a number, neighbours in full view (three digits)": (1.5, True),
}


def in_a_number(digits: list[tuple[np.ndarray, int]], k: int, reach: float, neighbours: bool) -> np.ndarray:
    """Digit `k` between two other validation digits (fixed by k), photographed aimed at it, then JPEG."""
    rng = np.random.default_rng([SEED, k])
    row = [digits[(k + 7) % len(digits)][0], digits[k][0], digits[(k + 13) % len(digits)][0]]
    among, alone, params = sp.number_photos(row, rng, reach=reach)
    return sp.jpeg_roundtrip(among if neighbours else alone, params.jpeg_quality)


# name -> `in_printed_box` settings: the digit written in a box printed on a form, the box's line a
# fraction of its height (a 0.35-0.5 mm line round a 9-12 mm box is about 4%), all else as drawn.
FORMS: dict[str, dict[str, float]] = {
    "in a box printed on a form (line 4% of the box)": {},
    "in a box printed on a form, thin line (2%)": {"line": 0.02},
    "in a wide box (1.4 times as wide as tall)": {"width": 1.4},
    "in a tight box (5% of the digit's height free above and below)": {"margin": 0.1},
}
# name -> the gap between the digit and a line under it 1.5 times its height long (`underlined`), a
# fraction of its height; all else as drawn. Written on the line, its ink joins the line's.
UNDERLINED: dict[str, float] = {
    "over a line (a form's field), 1.5 times the digit's height": 0.15,
    "sitting on the line (the digit's ink joins it)": 0.0,
}
# name -> `on_a_rule` settings: the digit sitting on a line across the whole photo (a ruled page's
# line, a form's rule), in its own ink, a fraction of its height thick; all else as drawn.
RULED: dict[str, float] = {
    "sitting on a line across the photo (a ruled page's, 4%)": 0.04,
}


def rotated_sign(params: sp.PhotoParams) -> dict[str, object]:
    """The strongest rotation the hard preset draws, in the direction this photo was turned."""
    return {"rotation_deg": 20.0 if params.rotation_deg >= 0 else -20.0}


def photo(mask: np.ndarray, k: int, overrides: dict[str, object], rotate: bool = False) -> np.ndarray:
    """Digit `k`'s photo under a condition: the same seed for every condition, so the same draws."""
    if rotate:
        drawn = sp.sample_params(np.random.default_rng([SEED, k]))
        overrides = {**overrides, **rotated_sign(drawn)}
    return sp.render_photo(mask, np.random.default_rng([SEED, k]), **overrides)


def right_per_condition(clf: Classifier, digits: list[tuple[np.ndarray, int]],
                        chosen: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """For each condition (and a rotation of 20 degrees), which digits were read right.

    `chosen`: only the conditions whose names contain one of these words ("as drawn" always).
    """
    runs = {name: (lambda m, k, fixed=fixed: photo(m, k, fixed)) for name, fixed in CONDITIONS.items()}
    runs["turned 20 degrees"] = lambda m, k: photo(m, k, {}, rotate=True)
    runs.update({name: (lambda m, k, margin=margin: cropped(m, k, margin)) for name, margin in CROPS.items()})
    runs.update({name: (lambda m, k, how=how: in_a_number(digits, k, *how)) for name, how in NUMBERS.items()})
    runs.update({name: (lambda m, k, box=box: photo(sp.in_printed_box(m, **box), k, {}))
                 for name, box in FORMS.items()})
    runs.update({name: (lambda m, k, gap=gap: photo(sp.underlined(m, gap=gap), k, {}))
                 for name, gap in UNDERLINED.items()})
    runs.update({name: (lambda m, k, line=line: sp.on_a_rule(m, np.random.default_rng([SEED, k]), line=line))
                 for name, line in RULED.items()})
    if chosen:
        runs = {name: run for name, run in runs.items()
                if name == "as drawn" or any(word in name for word in chosen)}
    return {
        name: np.array([clf.classify(make(m, k)).label == y for k, (m, y) in enumerate(digits)])
        for name, make in runs.items()
    }


def table(results: dict[str, dict[str, np.ndarray]]) -> str:
    """Markdown: accuracy per condition and run, with the digits lost / gained against "as drawn"."""
    runs = list(results)
    lines = ["| condition | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    for name in next(iter(results.values())):
        cells = []
        for run in runs:
            right, base = results[run][name], results[run]["as drawn"]
            lost, gained = int((base & ~right).sum()), int((right & ~base).sum())
            cells.append(f"{right.mean():.2%} (-{lost} +{gained})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--per-set", type=int, default=300, help="validation digits per set")
    ap.add_argument("--conditions", default="", help="comma-separated words: only the conditions named so")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    chosen = tuple(word for word in args.conditions.split(",") if word)
    digits = validation_digits(args.per_set)
    results = {}
    for run in args.runs:
        clf = Classifier(load_model(run / "model_int8.tflite", threads=1))
        results[run.name] = right_per_condition(clf, digits, chosen)
    print(f"{len(digits)} validation-writer digits, one photo each per condition, int8\n")
    print(table(results))
    if args.json:
        rows = {run: {name: right.tolist() for name, right in d.items()} for run, d in results.items()}
        write_text(args.json, json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
