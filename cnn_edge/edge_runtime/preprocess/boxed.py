"""Step 4, before the pieces are chosen: a printed box the digit touches is taken out of its ink.

A digit written in a box on a form (one box a digit, as on a postcode or a date) often touches
it: a stroke runs into a side, or a thick pen closes the gap. Box and digit are then one piece of
ink, and the frame rule (`frames.without_frames`, a frame made of pieces round the digit's) cannot
leave the box out: the digit was framed with its box, and the model saw a small glyph in a square.
Inside one piece a printed box is four straight bands along the piece's outline, each filled along
its length and thinner than the pen that wrote the rest (a 0.3 mm line under a 0.5-1 mm pen).
A digit's own strokes are the pen's width, and none closes a rectangle round the rest: a square
0 is its own four sides and leaves nothing inside. Figures: benchmarks/results/photo_conditions.md.
"""

from __future__ import annotations

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
from cnn_edge.edge_runtime.preprocess.config import (
    BOX_CORNER,
    BOX_LEAST,
    BOX_SPAN,
    BOX_TILT,
    JOINED_FILL,
    JOINED_THIN,
)


def printed_box(piece: np.ndarray) -> np.ndarray | None:
    """The pixels of a printed box round the rest of one piece (its mask, in its box), or None.

    The box is the piece's outline: ink at the four corners of its least-area rectangle (within
    BOX_TILT degrees of level), and along each side a straight band at the outline's edge, filled
    along JOINED_FILL of BOX_SPAN of the piece at least; the sides' median thickness (one printed
    line) at most JOINED_THIN of the rest's strokes' width and a pixel thinner. Where a stroke
    runs on across a side (out of the box) the side's pixels stay.
    """
    slope = _cornered_slope(piece)
    if slope is None:
        return None
    ys, xs = np.nonzero(piece)
    found: list[tuple[bool, Band, int]] = []  # each side: transposed?, its band, its edge
    for transposed in (False, True):
        mask, sx, sy = (piece.T, ys, xs) if transposed else (piece, xs, ys)
        side_slope = -slope if transposed else slope  # a rectangle's other sides, x along y
        for outer_end in (0, -1):
            band = _side_band(mask, sx, sy, side_slope, outer_end)
            if band is None:
                return None
            found.append((transposed, band, outer_end))
    # One printed line, one thickness: where a stroke runs along a side, that side alone looks
    # thicker (a 1 along the box's left side, a 9's loop under its top).
    thick = float(np.median([band.thickness / np.hypot(1.0, band.slope) for _, band, _ in found]))
    box = np.zeros_like(piece)
    for transposed, band, outer_end in found:
        rows = max(1, int(round(thick * np.hypot(1.0, band.slope))))
        lo = band.lo if outer_end == 0 else band.hi - rows + 1
        line, crossed = line_and_crossings(piece.T if transposed else piece,
                                           Band(band.slope, lo, lo + rows - 1, float(rows)))
        line[:, crossed] = False
        box |= line.T if transposed else line
    rest = piece & ~box
    if np.count_nonzero(rest) < 4 * max(thick, 1.0) ** 2:
        return None  # the box alone, or a square 0 that is all sides
    pen = stroke_width(rest)
    if thick > JOINED_THIN * pen or pen - thick < 1.0:
        return None  # sides as thick as the pen: the digit's own strokes
    return box


def _cornered_slope(piece: np.ndarray) -> float | None:
    """The slope of the level sides of the pixels' least-area rectangle when it is BOX_LEAST pixels
    across at least, the pixels reach all four of its corners (within BOX_CORNER of its shorter
    side) and it is within BOX_TILT degrees of level; else None. Most digits end here: their
    outline is rounded or open at a corner. Worked out on the piece's outer outline: its convex
    hull, and the ink nearest a corner of it, are all of the piece's (a tenth of the pixels)."""
    import cv2

    contours, _ = cv2.findContours(piece.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = np.concatenate(contours).reshape(-1, 2)
    xs, ys = outline[:, 0].astype(np.float64), outline[:, 1].astype(np.float64)
    rect = cv2.minAreaRect(outline)
    if min(rect[1]) < BOX_LEAST:
        return None  # a speck, or a stroke: too small to hold a digit in a box
    corners = cv2.boxPoints(rect)
    reach = max(2.0, BOX_CORNER * min(rect[1]))
    for cx, cy in corners:
        if ((xs - cx) ** 2 + (ys - cy) ** 2).min() > reach * reach:
            return None
    edges = np.diff(np.vstack((corners, corners[:1])), axis=0)
    dx, dy = max(edges.tolist(), key=lambda e: abs(e[0]) - abs(e[1]))  # the most level side
    if abs(dy) > np.tan(np.radians(BOX_TILT)) * abs(dx):
        return None
    return float(dy / dx)


def _side_band(mask: np.ndarray, xs: np.ndarray, ys: np.ndarray, slope: float, outer_end: int) -> Band | None:
    """The band of one side of `mask` (its pixels `xs`, `ys`): at the outline's edge along `slope`
    (the top, `outer_end` 0, or the bottom, -1), its slope fitted to its own pixels, filled along
    its length, as thick as it is where no stroke joins it; else None."""
    for _ in range(2):  # from the rectangle's slope to the side's own (a photo's perspective)
        across, low, hist, peak = _outer_peak(xs, ys, slope, outer_end)
        near = np.abs(across - low - peak) <= RIM
        fitted = least_squares_slope(xs[near], ys[near])
        if fitted is None:
            return None
        slope = fitted
    across, low, hist, peak = _outer_peak(xs, ys, slope, outer_end)
    lo, hi = half_height_rows(hist, peak)
    inside = (across >= lo + low) & (across <= hi + low)
    cols = np.unique(xs[inside])
    length = cols[-1] - cols[0] + 1
    if len(cols) < JOINED_FILL * length or length < BOX_SPAN * (xs.max() - xs.min() + 1):
        return None  # broken, or short of the outline: strokes, not a printed side
    # A stroke that runs into the side, or along it, widens its rows; most of the side is alone.
    thick = _thickness_alone(mask, cols, outer_end)
    if outer_end == 0:
        return Band(slope, lo + low, lo + low + thick - 1, float(thick))
    return Band(slope, hi + low - thick + 1, hi + low, float(thick))


def _thickness_alone(mask: np.ndarray, cols: np.ndarray, outer_end: int) -> int:
    """How many rows thick a side is where nothing joins it: the first quartile, over the side's
    columns `cols` of `mask`, of the ink's run from the outline's edge (the top, `outer_end` 0,
    or the bottom)."""
    m = (mask if outer_end == 0 else mask[::-1])[:, cols]
    first = np.argmax(m, axis=0)
    gap = ~m & (np.arange(m.shape[0])[:, None] >= first)
    end = np.where(gap.any(axis=0), np.argmax(gap, axis=0), m.shape[0])
    return max(1, int(np.percentile(end - first, 25)))


def _outer_peak(xs: np.ndarray, ys: np.ndarray, slope: float,
                outer_end: int) -> tuple[np.ndarray, int, np.ndarray, int]:
    """The pixels' rows along `slope` (rounded), the lowest, the count per row from it, and the
    fullest row within a tenth of the outline's edge (`outer_end` 0: the top; -1: the bottom)."""
    across, low, hist = rows_along(xs, ys, slope)
    outer = min(len(hist), max(2 * RIM + 2, len(hist) // 10))
    if outer_end == 0:
        return across, low, hist, int(np.argmax(hist[:outer]))
    return across, low, hist, len(hist) - outer + int(np.argmax(hist[-outer:]))
