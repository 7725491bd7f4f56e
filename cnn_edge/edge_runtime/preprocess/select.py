"""Step 4: which pieces of ink are the digit: all of its strokes, not specks, borders, card edges
or the neighbours in a number that the frame cuts."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnn_edge.edge_runtime.preprocess.config import (
    NEIGHBOUR_REACH,
    STROKE_REACH,
    TIGHT_EDGE,
    PreprocessConfig,
)
from cnn_edge.edge_runtime.preprocess.frames import Box, digit_and_lines, without_frames
from cnn_edge.edge_runtime.preprocess.joined import without_joined_lines
from cnn_edge.edge_runtime.preprocess.paper import InkDepth
from cnn_edge.edge_runtime.preprocess.row import aimed_in_row


def components(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, int, int] | None:
    """cv2.connectedComponentsWithStats of the ink, worked out on the ink's bounding box only.

    The labelling costs by the pixel, and the ink rarely spans a quarter of the image: ~50 us
    less per call. The answer is the whole image's: the box's offset is kept even, because
    OpenCV labels 2x2 blocks and numbers the pieces in block order (an odd offset regroups
    the blocks and can renumber them, which would change tie-breaks downstream); stats and
    centroids are moved back to image coordinates, the centroids exactly (from their integer
    sums). Returns (n, labels of the box, stats, centroids, x offset, y offset), or None
    when there is no ink.
    """
    import cv2

    bx, by, bw, bh = cv2.boundingRect(binary)
    if bw == 0 or bh == 0:
        return None
    ox, oy = bx - bx % 2, by - by % 2
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(
        binary[oy:by + bh, ox:bx + bw], connectivity=8)
    stats[:, cv2.CC_STAT_LEFT] += ox
    stats[:, cv2.CC_STAT_TOP] += oy
    area = stats[:, cv2.CC_STAT_AREA:cv2.CC_STAT_AREA + 1].astype(np.float64)
    centroids = (np.rint(centroids * area) + (ox, oy) * area) / area
    return n, labels, stats, centroids, ox, oy


def border_labels(labels: np.ndarray, ox: int, oy: int, h: int, w: int) -> list[np.ndarray]:
    """The labels on the whole image's border (rows 0 and h-1, then columns 0 and w-1 without
    the corners), of those parts that lie in the labelled box at (ox, oy); the rest is label 0."""
    bh, bw = labels.shape
    rows = slice(max(0, 1 - oy), max(0, min(bh, h - 1 - oy)))  # image rows 1 .. h-2
    parts = []
    if oy == 0:
        parts.append(labels[0, :])
    if oy + bh == h:
        parts.append(labels[-1, :])
    if ox == 0:
        parts.append(labels[rows, 0])
    if ox + bw == w:
        parts.append(labels[rows, -1])
    return parts


class Selection(NamedTuple):
    """The digit's box, its pixels within the box, and the box of any frame round it, left out
    (`frames`) or erased from the digit's piece (`boxed`)."""

    x0: int
    y0: int
    x1: int
    y1: int
    mask: np.ndarray
    frame: Box | None


def select_digit(binary: np.ndarray, dark: np.ndarray, bg8: np.ndarray, paper: np.ndarray,
                 cfg: PreprocessConfig, ink_depth: InkDepth, look_for_lines: bool = True) -> Selection | None:
    """The digit's pieces among the ink's connected components, or None.

    Per piece in plain Python: past the specks (dropped first, in one numpy step: a noisy
    photo can hold thousands) a frame holds a handful of pieces, and numpy's per-call cost
    on a handful of numbers was most of this function's time. `look_for_lines`: look for a
    printed line joined to a piece (`joined`); when one is erased, the ink is labelled again
    and chosen from without looking twice.
    """
    import cv2

    h, w = binary.shape
    found = components(binary)
    if found is None or found[0] <= 1:
        return None
    n, labels, stats, centroids, ox, oy = found
    box = (slice(oy, oy + labels.shape[0]), slice(ox, ox + labels.shape[1]))
    rects = stats.tolist()  # per label: x, y, width, height, area

    # Border pixels per component: a card edge or the table runs along the border; a digit,
    # at most, touches it at a few points.
    border = border_labels(labels, ox, oy, h, w)
    on_border = np.bincount(np.concatenate(border) if border else np.zeros(0, np.int32), minlength=n).tolist()
    perimeter = 2 * w + 2 * max(h - 2, 0)
    min_area = max(3, int(0.0004 * h * w))
    pieces = (np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= min_area) + 1).tolist()  # not specks
    if look_for_lines:  # a printed line the digit sits on is part of its piece: label again without it
        erased = without_joined_lines(binary, pieces, rects, labels, (ox, oy))
        if erased is not None:
            chosen = select_digit(erased.binary, dark, bg8, paper, cfg, ink_depth, look_for_lines=False)
            return chosen if chosen is None or erased.frame is None else chosen._replace(frame=erased.frame)
    pieces = [i for i in pieces if _stroke_shaped(rects[i], on_border[i], h, w, perimeter)]
    if not pieces:
        return None
    pieces = _inked_enough(pieces, rects, binary, labels, box, (dark, bg8, paper), cfg, ink_depth)
    pieces, frame = without_frames(pieces, rects, labels, (ox, oy))
    if not pieces:
        return None

    # The digit's main piece: the largest, favouring the centre (a photo is aimed at it);
    # the first of equal scores; not a line it is written on or underlined with.
    off = np.hypot((centroids[:, 0] - w / 2) / w, (centroids[:, 1] - h / 2) / h).tolist()

    def score(i: int) -> float:
        return rects[i][4] * (1.0 - 0.8 * min(max(off[i], 0.0), 1.0))

    main, lines = digit_and_lines(max(pieces, key=score), pieces, rects, labels, (ox, oy), score)
    if lines:
        pieces = [i for i in pieces if i not in lines]
    main, neighbours = aimed_in_row(main, pieces, rects, off)
    if neighbours:  # the number's other digits are no strokes of this one
        pieces = [i for i in pieces if i not in neighbours]
    x0, y0, bw, bh, _ = rects[main]
    chosen = [main]

    # Aimed at (clear of every edge), the digit's neighbours in a number may be cut by the frame.
    aimed = min(x0, y0, w - x0 - bw, h - y0 - bh) >= TIGHT_EDGE * max(h, w)
    cut_off = [i for i in pieces if on_border[i]] if aimed else []
    x0, y0, x1, y1 = _grow_with_strokes(chosen, pieces, rects, labels, (ox, oy), (x0, y0, x0 + bw, y0 + bh),
                                        cut_off)

    # Only the box: every chosen piece lies inside it, and the whole image costs ~5x more.
    in_box = labels[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    if len(chosen) == 1:  # the usual case: a comparison is cheaper than a look-up table
        return Selection(x0, y0, x1, y1, in_box == main, frame)
    lut = np.zeros(n, bool)
    lut[chosen] = True
    return Selection(x0, y0, x1, y1, lut[in_box], frame)


def _inked_enough(pieces: list[int], rects: list[list[int]], binary: np.ndarray, labels: np.ndarray,
                  box: tuple[slice, slice], images: tuple[np.ndarray, np.ndarray, np.ndarray],
                  cfg: PreprocessConfig, ink_depth: InkDepth) -> list[int]:
    """The pieces dark enough to be pen strokes, judged by each piece's own mean darkness.

    `images`: (darkness 0-1, the paper's brightness, the image), as `paper.ink_darkness` gives.
    """
    import cv2

    dark, bg8, paper = images
    n = len(rects)
    # Pen strokes are well above the threshold; the desk beside a card, paper texture and noise
    # in a dark corner barely cross it. Judge each piece by its own mean darkness (relative and
    # in grey levels), or such a piece may be taken for the digit and the real digit rejected.
    # Only ink pixels carry a label: summing over them alone is ~10x less work than the image.
    ink = binary[box].view(bool)
    flat = labels[ink]
    dark_sum = np.bincount(flat, weights=dark[box][ink], minlength=n).tolist()
    depth = cv2.subtract(bg8[box], paper[box], dtype=cv2.CV_16S)[ink]  # bgf - paper: whole levels
    depth_sum = np.bincount(flat, weights=depth, minlength=n).tolist()
    pieces = [i for i in pieces if dark_sum[i] / rects[i][4] >= cfg.min_contrast
              and ink_depth.enough(depth_sum[i] / rects[i][4])]
    return pieces


def _grow_with_strokes(chosen: list[int], pieces: list[int], rects: list[list[int]], labels: np.ndarray,
                       offset: tuple[int, int], bounds: Box, cut_off: list[int]) -> Box:
    """Add to `chosen` (in place) the strokes within reach of the digit's box; the grown box.

    `cut_off`: pieces on the border of a photo aimed at the digit, likely neighbours cut by the
    frame; one joins only with its ink close to the digit's (config.NEIGHBOUR_REACH).
    """
    ox, oy = offset
    x0, y0, x1, y1 = bounds
    # Add the other strokes that sit within reach of the digit's box and are not specks
    # next to it; grow the box and look again (a 4's two strokes, a 5's cap).
    for _ in range(3):
        size = max(x1 - x0, y1 - y0)
        reach = STROKE_REACH * size
        near = NEIGHBOUR_REACH * reach  # for a border piece of an aimed photo (`cut_off`)
        least = max(3, 0.03 * sum(rects[i][4] for i in chosen))
        added = False
        for i in pieces:
            x, y, pw, ph, area = rects[i]
            if i in chosen or area < least:
                continue
            if x + pw >= x0 - reach and x <= x1 + reach and y + ph >= y0 - reach and y <= y1 + reach:
                if i in cut_off and not _ink_within(labels, (ox, oy), chosen, i, rects[i], near):
                    continue
                nx0, ny0 = min(x0, x), min(y0, y)
                nx1, ny1 = max(x1, x + pw), max(y1, y + ph)
                # A stroke of the same digit does not make the box much more than a digit's
                # shape, unless its ink comes within reach of the digit's ink itself: the main
                # piece may be a fragment (a 5's bowl without its bar, a 9's loop without its
                # detached tail), and measured against it alone the rest of the digit looked
                # like a neighbour. Dropped in the first pass, the refinement's crop then cut it.
                if max(nx1 - nx0, ny1 - ny0) > 1.6 * size and not _ink_within(
                        labels, (ox, oy), chosen, i, rects[i], reach):
                    continue
                chosen.append(i)
                x0, y0, x1, y1 = nx0, ny0, nx1, ny1
                added = True
        if not added:
            break
    return x0, y0, x1, y1


def _ink_within(labels: np.ndarray, offset: tuple[int, int], chosen: list[int], piece: int,
                rect: list[int], reach: float) -> bool:
    """Whether `piece` (its `rect`: x, y, width, height, area) has ink within `reach` pixels of
    a chosen piece's ink (a square neighbourhood; `labels` is the box at `offset`). Only the
    piece's surroundings are looked at: this runs for the rare piece that would grow the box."""
    import cv2

    g = int(np.ceil(reach))
    x, y, pw, ph, _ = rect
    ox, oy = offset
    bh, bw = labels.shape
    ry0, rx0 = max(0, y - oy - g), max(0, x - ox - g)
    region = labels[ry0:min(bh, y - oy + ph + g), rx0:min(bw, x - ox + pw + g)]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * g + 1, 2 * g + 1))
    near = cv2.dilate((region == piece).view(np.uint8), kernel)  # exact on every platform
    return bool(np.isin(region[near.view(bool)], chosen).any())


def _stroke_shaped(rect: list[int], on_border: int, h: int, w: int, perimeter: int) -> bool:
    """Whether a piece (x, y, width, height, area) could be a pen stroke rather than an edge or a blob."""
    _, _, pw, ph, area = rect
    if on_border > 0.08 * perimeter:
        return False  # frames, card edges, the table
    if (pw >= 0.9 * w or ph >= 0.9 * h) and on_border != 0:
        return False  # a line across the image
    # A stroke is thin: a filled blob (a shadow, a thumb) fills most of its box.
    if area / max(pw * ph, 1) > 0.8 and area > 0.25 * h * w:
        return False
    # A strip along an edge (the desk beside the paper, a shadow's edge) spans half the image.
    return not (on_border > 0 and (ph >= 0.5 * h or pw >= 0.5 * w) and on_border > 0.03 * perimeter)

