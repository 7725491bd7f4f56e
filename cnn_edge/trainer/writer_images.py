"""Other writers' digits as the model sees them: glyph masks, framed the way MNIST was made.

Every digit goes through the edge runtime's own `preprocess` of a clean scan (fit into 20x20
keeping the aspect ratio, centred by centre of mass in 28x28), exactly as the handwriting fonts
do, so training images look like what the runtime makes of a photo.

- optdigits (32x32 binary scans, aspect kept, strokes ~1/5 of the height): upsampled to 128 and
  varied like the fonts (`font_digits.vary_glyph`: pen, rotation, slant, width), after a random
  thinning of up to 4 px (of 128), because their pens are bolder than MNIST's.
- pendigits: the bitmap was one rendering with a thin pen; the pen trajectories are drawn
  again with a pen 6-11 px (of 128) wide, then varied the same way. Clean (test) renders use one
  pen of 10 px, upright.
- semeion and mfeat were stretched to fill their box when they were made (aspect ratio lost):
  they are used as they are, and only where measured to help. Semeion's training blocks are in
  the `--augment` default (its validation writers 95.0% -> 96.7%, the others unchanged); mfeat
  has no writers to split and is never trained on.

`glyph_mask` is the clean mask of one sample (benchmarks render photos from it);
`training_images` builds the varied training part with each image's row in its file;
`sampled_training_images` draws a few of them at random (a fine-tune's rehearsal).
"""

from __future__ import annotations

import numpy as np

from cnn_edge.trainer.other_writers import TRAINABLE, WriterSet, load_set

WORK = 128  # side the masks are drawn at, as for the fonts
_TRAJ_SPAN = 100  # longer side of a redrawn trajectory on the 128 canvas
_CLEAN_PEN = 10  # px of 128 for clean pendigits renders: ~1/10 of the height, MNIST-like
_PEN_RANGE = (6, 11)  # px of 128 for training renders (font_digits.vary_glyph adds -3..+5)
_MAX_THIN = 4  # px of 128 an optdigits scan may be thinned before it is varied
_FRAME_SIDE = 64  # masks are scanned at this height for the runtime's preprocess


def glyph_mask(ws: WriterSet, i: int, pen: float = _CLEAN_PEN) -> np.ndarray:
    """Sample `i` of a set as a 128-px ink mask (uint8, ink 255): the clean digit, no variation."""
    if ws.name == "pendigits":
        return trajectory_mask(*_trajectory(ws, i), pen)
    return _upsample(ws.x[i])


def _upsample(bitmap: np.ndarray) -> np.ndarray:
    """A small bitmap drawn 128 px high (aspect as stored), smooth edges from cubic interpolation."""
    import cv2

    h, w = bitmap.shape
    size = (max(1, round(WORK * w / h)), WORK)
    return cv2.resize(bitmap.astype(np.uint8), size, interpolation=cv2.INTER_CUBIC)


def _trajectory(ws: WriterSet, i: int) -> tuple[np.ndarray, np.ndarray]:
    start, end = ws.fields["traj_offsets"][i], ws.fields["traj_offsets"][i + 1]
    return ws.fields["traj_xy"][start:end], ws.fields["traj_stroke"][start:end]


def trajectory_mask(xy: np.ndarray, stroke: np.ndarray, pen: float) -> np.ndarray:
    """Pen strokes (tablet coordinates, y up) drawn with a round pen `pen` px wide on 128x128.

    The longer side spans 100 px, so the aspect ratio the writer wrote is kept.
    """
    import cv2

    pts = xy.astype(np.float64) * [1.0, -1.0]  # y down, as images are
    pts -= pts.min(axis=0)
    pts *= _TRAJ_SPAN / max(float(pts.max()), 1.0)
    pts += (WORK - pts.max(axis=0)) / 2
    mask = np.zeros((WORK, WORK), np.uint8)
    width = max(1, round(pen))
    shift = 4  # sub-pixel precision of OpenCV's drawing
    for s in np.unique(stroke):
        line = np.round(pts[stroke == s] * (1 << shift)).astype(np.int32)
        if len(line) == 1:
            centre = (int(line[0][0]), int(line[0][1]))
            cv2.circle(mask, centre, (width << shift) // 2, 255, -1, cv2.LINE_AA, shift)
        else:
            cv2.polylines(mask, [line], False, 255, width, cv2.LINE_AA, shift)
    return mask


def varied_mask(ws: WriterSet, i: int, rng: np.random.Generator) -> np.ndarray:
    """Sample `i` drawn by another pen and hand: the fonts' variation on top of a varied base pen."""
    import cv2

    from cnn_edge.trainer.font_digits import vary_glyph

    if ws.name == "pendigits":
        base = glyph_mask(ws, i, pen=rng.uniform(*_PEN_RANGE))
    else:
        base = _upsample(ws.x[i])
        k = int(rng.integers(0, _MAX_THIN + 1)) if ws.name == "optdigits" else 0
        if k:
            thinner = cv2.erode(base, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
            base = thinner if thinner.max() > 128 else base
        side = max(base.shape)  # vary_glyph works on a square
        pad_x = side - base.shape[1]
        base = np.pad(base, ((0, side - base.shape[0]), (pad_x // 2, pad_x - pad_x // 2)))
    return vary_glyph(base, rng)


def frame_like_mnist(mask: np.ndarray) -> np.ndarray | None:
    """The runtime's own 28x28 view of a clean scan of `mask` (None: it finds no digit)."""
    import cv2

    from cnn_edge.edge_runtime.preprocess import DEFAULT, preprocess
    from cnn_edge.trainer.scans import clean_scan

    if mask.shape[0] > _FRAME_SIDE:  # 4x faster, and 64 px is still 3x the 20-px box
        size = (max(1, round(mask.shape[1] * _FRAME_SIDE / mask.shape[0])), _FRAME_SIDE)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
    return preprocess(clean_scan(mask), DEFAULT)


def training_images(
    parts: tuple[str, ...] | list[str], copies: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`copies` varied 28x28 images of every training-role sample of `parts`.

    Returns (x uint8 white on black, y uint8, part index into TRAINABLE, row in the part's file),
    the last two being each image's provenance. Only rows whose role is "train" are read: the
    validation and held-out writers of `other_writers` never get here. Same seed, same images.
    """
    rng = np.random.default_rng(seed)
    sets = [load_set(name) for name in parts]
    picks = [(ws, int(i)) for ws in sets for i in ws.indices("train") for _ in range(copies)]
    return _render(picks, rng)


def sampled_training_images(
    parts: tuple[str, ...] | list[str], n: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`n` varied 28x28 images of training-role samples of `parts` drawn at random (with repeats).

    For a fine-tune's rehearsal: a few hundred images of the writers its parent learned, each
    training writer's sample equally likely. Same return as `training_images`; the validation and
    held-out writers never get here either. Fewer than `n` only if the runtime sees no digit in
    some pen variants.
    """
    rng = np.random.default_rng(seed)
    pool = [(ws, int(i)) for ws in (load_set(name) for name in parts) for i in ws.indices("train")]
    if not pool or n <= 0:
        return _render([], rng)
    return _render([pool[int(k)] for k in rng.integers(0, len(pool), size=n)], rng)


def _render(
    picks: list[tuple[WriterSet, int]], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each (set, row) drawn by a varied pen and framed like MNIST, with its provenance."""
    images, labels, part_ids, rows = [], [], [], []
    for ws, i in picks:
        digit = frame_like_mnist(varied_mask(ws, i, rng))
        if digit is not None:  # a pen variant the runtime sees no digit in is left out
            images.append(digit)
            labels.append(ws.y[i])
            part_ids.append(TRAINABLE.index(ws.name))
            rows.append(i)
    if not images:
        empty = np.zeros(0, np.int64)
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), empty, empty
    return (
        np.stack(images),
        np.asarray(labels, np.uint8),
        np.asarray(part_ids, np.int64),
        np.asarray(rows, np.int64),
    )
