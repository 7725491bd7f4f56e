"""Step 4a: a frame round the digit (a box printed on a form, a circle drawn round it) or a line
under it is not part of the digit. Kept, it was framed with the digit, and the model saw a small
glyph in a square, or over a bar."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_edge.edge_runtime.preprocess.config import (
    FRAME_GAP,
    FRAME_HOLE,
    FRAME_INNER,
    FRAME_REACH,
    LINE_LENGTH,
    LINE_MIDDLE,
    LINE_TILT,
)

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


def without_frames(pieces: list[int], rects: list[list[int]], labels: np.ndarray,
                   offset: tuple[int, int]) -> tuple[list[int], Box | None]:
    """`pieces` less the pieces of a frame round one of them, and the frame's box (None: no frame).

    `rects`: per label (x, y, width, height, area); `labels`: the labelled box at `offset` in the
    image. A thin printed line often breaks into several pieces, so a frame is the pieces round a
    digit taken together, their gaps closed (config.FRAME_GAP). Only a piece with other pieces on
    all four sides is looked at closely: in most photos none has. A frame of pieces that hold the
    digit's box or lie clear of it is looked for first; a thin turned box broken into pieces whose
    boxes overlap the digit's (a side with half the next) only when there is none.
    """
    for overlapping in (False, True):
        for j in sorted(pieces, key=lambda i: -rects[i][4]):
            around = _pieces_around(j, pieces, rects, overlapping)
            if not around:
                continue
            ring = _ring_round(j, around, rects, labels, offset)
            if ring:
                return [i for i in pieces if i not in ring], _union([rects[i] for i in ring])
    return pieces, None


def _union(rects: list[list[int]]) -> Box:
    """The box (x0, y0, x1, y1) round boxes given as (x, y, width, height, ...)."""
    return (min(r[0] for r in rects), min(r[1] for r in rects),
            max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects))


def _pieces_around(j: int, pieces: list[int], rects: list[list[int]], overlapping: bool = False) -> list[int]:
    """The pieces that could be a frame round piece `j`: each holds j's box in its own or lies
    clear of it within FRAME_REACH of its size; together they must reach past j on every side.
    `overlapping`: also the near pieces whose boxes overlap j's without lying inside it (a broken
    box's corners; also a digit's own second stroke, which `_ring_round` tells apart)."""
    x, y, w, h, _ = rects[j]
    reach = FRAME_REACH * max(w, h)
    around = []
    for i in pieces:
        ix, iy, iw, ih, _ = rects[i]
        if i == j:
            continue
        near = ix < x + w + reach and iy < y + h + reach and ix + iw > x - reach and iy + ih > y - reach
        inside = ix >= x and iy >= y and ix + iw <= x + w and iy + ih <= y + h
        if near and (_clear_or_holding(rects[i], (x, y, x + w, y + h)) or (overlapping and not inside)):
            around.append(i)
    if not around:
        return []
    x0, y0, x1, y1 = _union([rects[i] for i in around])
    return around if x0 < x and y0 < y and x1 > x + w and y1 > y + h else []


def _ring_round(j: int, around: list[int], rects: list[list[int]], labels: np.ndarray,
                offset: tuple[int, int]) -> list[int]:
    """The pieces of `around` that close round piece `j` (gaps up to FRAME_GAP of the ring's size
    bridged), or [] when they do not: j must lie in the ring's hole, be at least FRAME_INNER of
    the ring's size, and the hole must be FRAME_HOLE of the ring's box (a digit's own loop is
    smaller, and holds no piece that large). Pieces inside the hole (a 5's separate bar) stay."""
    import cv2

    x0, y0, x1, y1 = _union([rects[i] for i in around])
    if max(rects[j][2], rects[j][3]) < FRAME_INNER * max(x1 - x0, y1 - y0):
        return []
    gap = max(1, int(round(FRAME_GAP * max(x1 - x0, y1 - y0))))
    ox, oy = offset
    bh, bw = labels.shape
    ry0, rx0 = max(0, y0 - oy - gap), max(0, x0 - ox - gap)
    region = labels[ry0:min(bh, y1 - oy + gap), rx0:min(bw, x1 - ox + gap)]
    ring = np.isin(region, around).view(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * gap + 1, 2 * gap + 1))
    ring = cv2.morphologyEx(ring, cv2.MORPH_CLOSE, kernel)
    contours, _ = cv2.findContours(ring, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    closed = np.zeros_like(ring)
    cv2.drawContours(closed, contours, -1, 1, thickness=cv2.FILLED)
    hole = closed > ring
    if np.count_nonzero(hole) < FRAME_HOLE * (x1 - x0) * (y1 - y0):
        return []
    if np.mean(hole[region == j]) < 0.9:
        return []  # j is not inside: the pieces do not close round it
    # A frame's pieces lie along the ring's outside (within two gaps: the closing fills the
    # region's margin); a piece whose box overlaps j's and lies further in is a stroke of the
    # digit (a 5's bar): it stays.
    reach = cv2.getStructuringElement(cv2.MORPH_RECT, (4 * gap + 1, 4 * gap + 1))
    outer = cv2.dilate(1 - closed, reach, borderType=cv2.BORDER_CONSTANT, borderValue=1)
    x, y, w, h, _ = rects[j]
    return [i for i in around if np.mean(hole[region == i]) < 0.5
            and (_clear_or_holding(rects[i], (x, y, x + w, y + h)) or np.mean(outer[region == i]) >= 0.5)]


def _clear_or_holding(rect: list[int], box: Box) -> bool:
    """Whether a piece's box (x, y, width, height, ...) lies clear of `box` or holds it."""
    ix, iy, iw, ih = rect[:4]
    x0, y0, x1, y1 = box
    holds = ix < x0 and iy < y0 and ix + iw > x1 and iy + ih > y1
    return holds or ix >= x1 or iy >= y1 or ix + iw <= x0 or iy + ih <= y0


def digit_and_lines(main: int, pieces: list[int], rects: list[list[int]], labels: np.ndarray,
                    offset: tuple[int, int], score: Callable[[int], float]) -> tuple[int, list[int]]:
    """The digit's main piece and the straight lines to leave out: a line the digit is written on or
    underlined with, LINE_LENGTH times the main piece's height or width and beside it.

    `main` is the best piece by `score`; when it is itself such a line (a long underline holds as
    much ink as a small digit), the best other piece takes its place if it is at least
    FRAME_INNER of the line's size and the line lies within LINE_TILT degrees of level: a digit
    is written over a line, and a 1 with a mark beside it is no underline. A digit's own straight
    strokes (a 7's bar, a 1's foot) are shorter than the digit, or cross it (a 4's).
    """
    if len(pieces) == 1:
        return main, []
    other = max((i for i in pieces if i != main), key=score)
    over_other = LINE_LENGTH * max(rects[other][2:4])  # how long `main` must be to be a line under it
    long_enough = np.hypot(*rects[main][2:4]) >= over_other  # a box's diagonal: no line inside it is longer
    if long_enough and max(rects[other][2:4]) >= FRAME_INNER * max(rects[main][2:4]):  # not a speck
        if _line_beside(main, rects[other], rects, labels, offset, max_tilt=LINE_TILT) >= over_other:
            main = other
    least = LINE_LENGTH * max(rects[main][2:4])
    lines = [i for i in pieces if i != main and np.hypot(*rects[i][2:4]) >= least
             and _line_beside(i, rects[main], rects, labels, offset) >= least]
    return main, lines


def _line_beside(i: int, digit: list[int], rects: list[list[int]], labels: np.ndarray,
                 offset: tuple[int, int], max_tilt: float = 90.0) -> float:
    """The length of piece `i` if it is a straight line beside the box `digit` (x, y, width,
    height), else 0. Straight: its thinnest box at most a fifth as wide as long (a stroke that
    bends is wider). Beside: at most a tenth of its ink in `digit` (a tilted underline's box
    overlaps the digit's), and the digit's centre over its middle, within LINE_MIDDLE of its half
    length from its centre (a 9's detached tail, as long, points at the loop from its end); and
    within `max_tilt` degrees of level."""
    import cv2

    x, y, w, h, _ = rects[i]
    ox, oy = offset
    ys, xs = np.nonzero(labels[y - oy:y - oy + h, x - ox:x - ox + w] == i)
    xs, ys = xs + x, ys + y
    dx, dy, dw, dh = digit[:4]
    if np.count_nonzero((xs >= dx) & (xs < dx + dw) & (ys >= dy) & (ys < dy + dh)) > 0.1 * len(xs):
        return 0.0
    # The rect's own angle, not card.upright_geometry's corners: a one-pixel line's rect has no
    # width, its corners coincide in pairs, and the edge of length 0 would pass for the level one.
    # (OpenCV changed the angle's range, not that the first size lies along the angle.)
    (cx, cy), (a, b), angle = cv2.minAreaRect(np.column_stack([xs, ys]).astype(np.float32))
    long = max(a, b)
    if min(a, b) > 0.2 * long:
        return 0.0
    theta = np.radians(angle if a >= b else angle + 90.0)  # the long side's direction
    if abs(np.sin(theta)) > np.sin(np.radians(max_tilt)):
        return 0.0
    along = (dx + dw / 2 - cx) * np.cos(theta) + (dy + dh / 2 - cy) * np.sin(theta)
    return long if abs(along) <= LINE_MIDDLE * long / 2 else 0.0
