"""Step 4, before the pieces are chosen: a printed line the digit touches is taken out of its ink.

A digit written on a form's line, or on a ruled page's, often sits on it: the two are one piece of
ink, and the rules that leave a line out (`frames.digit_and_lines`, a line beside the digit, and
`select._stroke_shaped`, a line across the image) choose among pieces, so they take or drop the
digit with its line. Inside one piece a printed line is told from a pen stroke by its thickness:
it is straight, about level, longer than the rest of the piece is tall, and thinner than the pen
that wrote the rest (a 0.2-0.4 mm rule under a 0.5-1 mm ballpoint or marker). A 2's flat base is
as long and as level, but written with the digit's own pen: it stays. A line that the photo's
edges cut and that runs on past the digit on both sides (a ruled page's) is no stroke of a digit
at all, and may be about as thick as the pen. Figures: benchmarks/results/photo_conditions.md.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnn_edge.edge_runtime.preprocess.bands import (
    RIM,
    Band,
    half_height_rows,
    least_squares_slope,
    line_and_crossings,
    rows_along,
    stroke_width,
)
from cnn_edge.edge_runtime.preprocess.boxed import printed_box
from cnn_edge.edge_runtime.preprocess.config import (
    BOX_LEAST,
    JOINED_ABOVE,
    JOINED_CLEAR,
    JOINED_FILL,
    JOINED_THICK,
    JOINED_THIN,
    JOINED_TILT,
    LINE_LENGTH,
)
from cnn_edge.edge_runtime.preprocess.frames import Box

# The directions tried, one degree apart (the best one's slope is then fitted: `_fitted_slope`).
_SLOPES = np.tan(np.radians(np.arange(-JOINED_TILT, JOINED_TILT + 0.5, 1.0)))
# The direction is found on at most this many of a piece's pixels (a line across a big photo's
# full-resolution crop holds thousands); the band is then measured on all of them.
_SAMPLE = 1500


class Erased(NamedTuple):
    """The ink with the printed lines and boxes joined to the digit erased, and the box round any
    box erased (the digit's full-resolution cut must hold it whole, as a frame's)."""

    binary: np.ndarray
    frame: Box | None


def without_joined_lines(binary: np.ndarray, pieces: list[int], rects: list[list[int]],
                         labels: np.ndarray, offset: tuple[int, int]) -> Erased | None:
    """`binary` with the printed lines and boxes joined to a piece's other ink erased (a copy), or
    None when no piece holds one (the usual case: nothing is copied).

    A line is looked for only in pieces at least as wide as tall, or as wide as the image: a line
    makes its piece wide, a digit alone rarely is; a box (`boxed.printed_box`) in any piece
    BOX_LEAST pixels across, its corners a quick test. Pieces a few pixels wide are specks: their
    bands say nothing. `rects`: per label (x, y, width, height, area); `labels`: the labelled box
    at `offset` in the image.
    """
    ox, oy = offset
    erased, frame = None, None
    for i in pieces:
        x, y, w, h, _ = rects[i]
        wide = w >= 8 and (w >= h or (x == 0 and x + w == binary.shape[1]))
        boxed = min(w, h) >= BOX_LEAST
        if not (wide or boxed):
            continue
        piece = labels[y - oy:y - oy + h, x - ox:x - ox + w] == i
        line = printed_line(piece, (x, y, binary.shape[1], binary.shape[0])) if wide else None
        if line is None and boxed:
            line = printed_box(piece)
            if line is not None:
                frame = (x, y, x + w, y + h)
        if line is None:
            continue
        if erased is None:
            erased = binary.copy()
        erased[y:y + h, x:x + w][line] = 0
    return None if erased is None else Erased(erased, frame)


def printed_line(piece: np.ndarray, place: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
    """The pixels of a printed line in one piece's mask (its box), or None: the densest straight
    band within JOINED_TILT degrees of level, filled along its length (JOINED_FILL), LINE_LENGTH
    times as long as the rest of the piece is tall (or cut at both ends by the photo's edges:
    `place` is the piece's x, y in an image of that width and height), under all of it (the
    rest's columns, and JOINED_ABOVE of its pixels above it: the digit sits on it), and at most
    JOINED_THIN as thick as the rest's strokes are wide and a pixel thinner at least (two and
    three pixels are one pen's width in a small digit's shrunk copy; JOINED_THICK when the
    photo's edges cut it and it runs on past the rest by JOINED_CLEAR of the rest's width on
    both sides). Where the rest's strokes run on across the band (a 4's stem through the line)
    the band's pixels stay: they are both."""
    ys, xs = np.nonzero(piece)
    band = _densest_band(xs, ys)
    across = ys - band.slope * xs
    bx = xs[(across > band.lo - 0.5) & (across < band.hi + 0.5)]
    x0, x1 = int(bx.min()), int(bx.max())
    if len(np.unique(bx)) < JOINED_FILL * (x1 - x0 + 1):
        return None  # broken along its length: strokes of a digit, not a ruled line
    cos = 1.0 / np.hypot(1.0, band.slope)
    length = (x1 - x0) / cos
    cut_by_edges = place is not None and _on_edge(xs, ys, x0, place) and _on_edge(xs, ys, x1, place)
    # The same tests as below, looser, on what lies above the band: most wide digits (a 0, a
    # 2) end here, before the per-column work on the piece's whole box.
    if not cut_by_edges and length < LINE_LENGTH * (band.lo - 2 * RIM - across.min()) * cos:
        return None
    line, crossed = line_and_crossings(piece, band)
    rest = piece & ~line
    if np.count_nonzero(rest) < 4 * band.thickness ** 2:
        return None  # a line alone, or with a speck on it: nothing to take it from
    ry, rx = np.nonzero(rest)
    if x0 > rx.min() or x1 < rx.max():
        return None  # not under all of the rest
    rest_across = ry - band.slope * rx
    if np.count_nonzero(rest_across < band.lo) < JOINED_ABOVE * len(ry):
        return None  # not under the rest: a 5's or 7's top bar, a 4's cross-bar
    rest_tall = (rest_across.max() - rest_across.min()) * cos
    # Cut by the photo's edges and running on past the rest on both sides, it is no stroke of a
    # digit (a 2's base ends where its stroke comes down): it may be as thick as the pen.
    runs_on = cut_by_edges and min(rx.min() - x0, x1 - rx.max()) >= JOINED_CLEAR * (rx.max() - rx.min() + 1)
    if length < LINE_LENGTH * rest_tall and not cut_by_edges:
        return None  # shorter than a line (a 2's base), unless the photo's edges cut it
    pen, thick = stroke_width(rest), band.thickness * cos
    if thick > (JOINED_THICK if runs_on else JOINED_THIN) * pen or (not runs_on and pen - thick < 1.0):
        return None  # as thick as the pen (a 2's base), or a pixel apart: the digit's own stroke
    line[:, crossed] = False
    return line


def _on_edge(xs: np.ndarray, ys: np.ndarray, end: int, place: tuple[int, int, int, int]) -> bool:
    """Whether the piece's ink in column `end` (one end of its line) lies on the image's edge."""
    x, y, width, height = place
    rows = ys[xs == end] + y
    return x + end in (0, width - 1) or rows.min() == 0 or rows.max() == height - 1


def _densest_band(xs: np.ndarray, ys: np.ndarray) -> Band:
    """Of the directions within JOINED_TILT of level, the one-pixel band (along it) holding the
    most pixels, its slope then fitted to the pixels in it (one degree is several pixels at the
    end of a long line), widened to the neighbouring rows holding at least half as many (its
    thickness at half its height, as a pen stroke's is measured)."""
    step = max(1, len(xs) // _SAMPLE)
    sx, sy = xs[::step], ys[::step]
    rows = np.rint(sy[:, None] - sx[:, None] * _SLOPES[None, :]).astype(np.int64)
    rows -= rows.min()
    span = int(rows.max()) + 1
    counts = np.bincount((rows + np.arange(len(_SLOPES)) * span).ravel(), minlength=span * len(_SLOPES))
    slope = _fitted_slope(xs, ys, float(_SLOPES[int(counts.argmax()) // span]))
    _, low, hist = rows_along(xs, ys, slope)
    lo, hi = half_height_rows(hist, int(hist.argmax()))
    return Band(slope, lo + low, hi + low, float(hi - lo + 1))


def _fitted_slope(xs: np.ndarray, ys: np.ndarray, slope: float) -> float:
    """The least-squares slope of the pixels within two rows of the densest band along `slope`."""
    across = ys - slope * xs
    low = across.min()
    centre = low + int(np.bincount(np.rint(across - low).astype(np.int64)).argmax())
    near = np.abs(across - centre) <= 2
    fitted = least_squares_slope(xs[near], ys[near])
    return slope if fitted is None else fitted
