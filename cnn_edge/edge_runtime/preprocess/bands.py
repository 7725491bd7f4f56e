"""Straight bands of ink inside one piece: its pixels counted row by row along a slope, a band's
rows at half height and its fitted slope, how thick a piece's strokes are, and where a printed
line's band runs through it, column by column. Shared by the rules that take a printed line
(`joined`) or a printed box (`boxed`) out of the digit's ink: both tell print from pen by
thickness, and cut it out the same way."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# A thresholded line's anti-aliased rims: up to this many pixels either side of its band.
RIM = 2


class Band(NamedTuple):
    """A straight band of a piece's pixels: rows `lo`..`hi` of `y - slope * x` (its pixels' own
    coordinates in the piece's box), and how many pixels thick it is across."""

    slope: float
    lo: int
    hi: int
    thickness: float


def line_and_crossings(piece: np.ndarray, band: Band) -> tuple[np.ndarray, np.ndarray]:
    """The line's pixels, and the columns where a stroke crosses it.

    In each column, the run of ink through the band's middle is the line's alone when it is no
    thicker than the band and its anti-aliased rims (all of it goes, rims included), else a
    stroke joins it there and only the band's rows go; the stroke crosses it when the run goes
    on both above and below the band.
    """
    h, w = piece.shape
    cols = np.arange(w)
    rows = np.arange(h)[:, None]
    centre = (band.lo + band.hi) / 2 + band.slope * cols
    middle = np.clip(np.rint(centre), 0, h - 1).astype(np.int64)
    starts = piece.copy()
    starts[1:] &= ~piece[:-1]
    run = np.cumsum(starts, axis=0) * piece  # each column's runs numbered 1, 2, ...; 0 off ink
    through = run[middle, cols]
    in_run = (run == through[None, :]) & (through > 0)[None, :]
    top = np.argmax(in_run, axis=0)
    bottom = h - 1 - np.argmax(in_run[::-1], axis=0)
    half = band.thickness / 2
    alone = bottom - top + 1 <= band.thickness + 2 * RIM
    near = np.abs(rows - centre[None, :]) < half + 1
    crossed = (through > 0) & (top < centre - half - RIM) & (bottom > centre + half + RIM)
    return in_run & (alone[None, :] | near), crossed


def stroke_width(mask: np.ndarray) -> float:
    """The strokes' mean width: twice the area over the outline's length (a stroke w wide and L long
    has area wL and an outline of about 2L), holes' outlines included."""
    import cv2

    contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, closed=True) for c in contours)
    return 2.0 * np.count_nonzero(mask) / max(outline, 1.0)


def rows_along(xs: np.ndarray, ys: np.ndarray, slope: float) -> tuple[np.ndarray, int, np.ndarray]:
    """Each pixel's row along `slope` (`y - slope * x`, rounded), the lowest row, and how many
    pixels each row from it holds."""
    across = np.rint(ys - slope * xs).astype(np.int64)
    low = int(across.min())
    return across, low, np.bincount(across - low)


def half_height_rows(hist: np.ndarray, peak: int) -> tuple[int, int]:
    """The rows round `peak` holding at least half as many pixels as it: a band's thickness at half
    its height, as a pen stroke's is measured."""
    lo = hi = peak
    while lo > 0 and hist[lo - 1] >= 0.5 * hist[peak]:
        lo -= 1
    while hi + 1 < len(hist) and hist[hi + 1] >= 0.5 * hist[peak]:
        hi += 1
    return lo, hi


def least_squares_slope(xs: np.ndarray, ys: np.ndarray) -> float | None:
    """The least-squares slope of y on x of these pixels; None when they lie in one column."""
    x = xs - xs.mean()
    spread = float((x * x).sum())
    return None if spread == 0 else float((x * (ys - ys.mean())).sum() / spread)
