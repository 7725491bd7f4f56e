"""Find the paper in a camera's search region: a digit card held up, or a page filling the view.

A card held to a camera sits in front of a room: a lamp, a desk, a thumb over the card's
margin. Measured against the card's white, all of those are "darker than paper" and would be
read as ink. So before looking for the digit, the camera path looks for the paper itself:
- the largest bright, nearly rectangular blob is a card: it is turned upright and cut out,
  and whatever intrudes into its outline (a thumb, the rim's shadow) is painted over with the
  card's own white; a card tilted steeply in depth (a trapezoid) is cut out through its four
  corners, as if seen square-on;
- a bright blob covering most of the region is a page filling the view: used as it is;
- so is a region whose light only changes gently, however dark in part: a page under a shadow's
  soft edge or a lamp's falloff, which no single brightness level shows as one blob;
- anything else (a room with no card in it) has no paper, so no digit: None, not a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnn_edge.edge_runtime.pixels import paper_at_half, percentiles_u8, shrink_to

# Search resolution: a card is found from its outline, which needs no detail.
WORK_SIZE = 128


@dataclass(frozen=True)
class CardConfig:
    """Knobs of the paper search (fractions of the region's area or side).

    min_area: least area of a card (a card far away is too small to read anyway).
    fills_view: a bright blob at least this large that runs out of the region is a page
        filling the view; the region is used as it is.
    page_area: a bright blob this large, before any opening, is a page without a doubt: its
        shape is not judged (the openings cannot shrink it below `fills_view`).
    min_rectangularity: area of the blob's convex hull / area of its rotated bounding box,
        after a round opening that cuts off a bright thumb. The hull, because a dark thumb over
        the card's edge dents the blob instead (the blob alone measured 0.845 on such frames).
        Measured on two renders of the benchmark card video: cards 0.871 and up, the room's
        bright shapes (a lamp, clutter) at most 0.815.
    min_solidity: area of the blob / area of its convex hull: a thumb's dent costs a card a few
        per cent (cards 0.938 and up), a room's cluster of objects leaves wide gaps.
    margin: fraction of each side cut from the card's inside, past its rim.
    max_light_step: a region none of whose levels shows paper is still one page if its light,
        ink aside, nowhere changes by more than this fraction of the paper's brightness per
        1/64 of its side (`_light_step`). Measured: the benchmark's pages at most 0.028; 160
        pages with a soft shadow across each (15-55% darker) at most 0.091, 0.073 at the
        renderer's usual strength; the benchmark's room, with or without a card, steeper than
        the measure goes (its furniture's edges, out of focus as they are). Of 200 dim cluttered
        test rooms, 40 already took the photo path as a wall; 0.08 sends 7 more.
    min_quad_fill, tilted_far_edge, min_corner_angle: a blob that fails the rectangle test may
        still be a card tilted in depth, a trapezoid whose far edge is shorter than its near one
        (steeply tilted near the lens). It is judged again as seen square-on through its four
        corners if its outline is a quadrilateral (the 4-corner outline covering at least
        `min_quad_fill` of its hull: such cards 0.85-0.92, its corners rounded by the opening),
        whose more foreshortened pair of edges is within `tilted_far_edge` of each other (a
        card whose far edge is 0.6x its near one measured 0.69-0.76; the room's bright
        patches that passed everything else 0.85-0.92, skewed rather than tilted shapes that
        the rectangle test rightly refused), and with no corner sharper than `min_corner_angle`
        degrees (such cards 70 and up).
    """

    min_area: float = 0.04
    fills_view: float = 0.55
    page_area: float = 0.85
    min_rectangularity: float = 0.85
    min_solidity: float = 0.9
    margin: float = 0.06
    max_light_step: float = 0.08
    min_quad_fill: float = 0.85
    tilted_far_edge: tuple[float, float] = (0.5, 0.8)
    min_corner_angle: float = 50.0


DEFAULT_CARD = CardConfig()


def find_paper(gray: np.ndarray, cfg: CardConfig = DEFAULT_CARD) -> np.ndarray | None:
    """Grey uint8 region -> the paper to look for the digit on (upright card or the region), or None."""
    import cv2

    small, scale = shrink_to(gray, WORK_SIZE)
    # The card is among the brightest things in view, but a lit room can hold others as bright
    # (a lamp, a white wall) that touch it at Otsu's level: try stricter levels towards the
    # brightest pixels until a card-shaped blob stands alone.
    otsu, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    found = _paper_at_level(gray, small, scale, float(otsu), cfg)
    if found is None:  # most frames are settled at Otsu's level: the brightest pixels only now
        (top,) = percentiles_u8(small, (99.0,))
        for level in _levels(otsu, max(otsu, top - 12.0), 4)[1:]:
            found = _paper_at_level(gray, small, scale, level, cfg)
            if found is not None:
                break
    if found is None or found is _NO_CARD:  # still one page if its light changes gently
        return gray if _light_step(small) <= cfg.max_light_step else None
    return found


def _levels(start: float, stop: float, num: int) -> list[float]:
    """np.linspace(start, stop, num) as Python floats, the same values (the first is `start`)."""
    step = (stop - start) / (num - 1)
    return [i * step + start for i in range(num - 1)] + [float(stop)]


# `_paper_at_level` answers this when the view is settled to hold no paper at any level.
_NO_CARD = np.zeros((0, 0), np.uint8)


def _paper_at_level(
    gray: np.ndarray, small: np.ndarray, scale: float, level: float, cfg: CardConfig
) -> np.ndarray | None:
    """The paper seen at one brightness threshold, or None to try a stricter one."""
    import cv2

    _, bright = cv2.threshold(small, level, 1, cv2.THRESH_BINARY)  # small > level, as 0/1
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return _NO_CARD
    largest = max(contours, key=cv2.contourArea)
    sh, sw = small.shape
    if _sides_touched(largest, small.shape) and cv2.contourArea(largest) >= cfg.page_area * sh * sw:
        # Nearly the whole region is bright: a page filling the view (the camera over a desk).
        # Judging its shape (two openings) could not say otherwise, and cost a fifth of the frame.
        return gray
    filled, square = _filled(largest, small.shape), _square_kernel(largest)
    blob = _opened_outline(filled, square)
    if blob is None:
        return None
    area = cv2.contourArea(blob) / float(sh * sw)
    if area < cfg.min_area:
        return _NO_CARD  # stricter levels only shrink the blob further
    sides_touched = _sides_touched(blob, small.shape)
    if area >= cfg.fills_view and sides_touched >= 1:
        return gray  # a page filling the view: the ordinary photo path handles it
    if sides_touched >= 2:
        return None  # a bright patch cut by the region's edges (a window, a lamp), not a card
    rect = cv2.minAreaRect(blob)
    if rect[1][0] * rect[1][1] <= 0:
        return None
    if _card_shaped(filled, square.shape[0], cfg):
        return _cut_upright(gray, scale, rect, cfg)
    # Tilted in depth, a card is a trapezoid that fills only part of its rotated box: seen
    # square-on through its four corners it is a card again, and is cut out that way.
    corners = _tilted_card_corners(blob, cfg)
    if corners is None:
        return None
    square_on, size, canvas = _square_on(corners)
    unwarped = cv2.warpPerspective(filled, square_on, canvas[::-1], flags=cv2.INTER_NEAREST)
    if not _card_shaped(unwarped, max(3, int(0.4 * min(size)) | 1), cfg):
        return None
    return _cut_square_on(gray, corners / scale, cfg)


def _card_shaped(filled: np.ndarray, k: int, cfg: CardConfig) -> bool:
    """Rectangular and solid enough (`_roundness`) to be a card and not a lamp or a cluster."""
    shape = _roundness(filled, k)
    if shape is None:
        return False
    rectangularity, solidity = shape
    return rectangularity >= cfg.min_rectangularity and solidity >= cfg.min_solidity


def _light_step(small: np.ndarray) -> float:
    """The steepest change of the paper's light, per 1/64 of the side, as a fraction of its brightness.

    A shadow's soft edge splits a page at every brightness level, so no level shows it as one
    blob; but paper's light changes over a good part of the view, while a room holds things
    with edges (`CardConfig.max_light_step` is the line). The ink would count as edges too: it
    is painted over with its paper first, as the photo path estimates its paper
    (`paper_at_half`). "Steepest" is the 99.5th percentile, so that a few noisy pixels do not
    decide.
    """
    import cv2

    paper = paper_at_half(small)
    gx = cv2.Sobel(paper, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(paper, cv2.CV_32F, 0, 1, ksize=3)
    # Sobel's 3x3 gives 8 per grey level of slope. As uint8 for a histogram's percentile (a
    # fifth of np.percentile's cost); 255, a slope of 32 levels per pixel or more, is an edge.
    (steep8,) = percentiles_u8(cv2.convertScaleAbs(cv2.magnitude(gx, gy)), (99.5,))
    if steep8 >= 255:
        return math.inf
    (bright,) = percentiles_u8(paper, (90.0,))
    return steep8 / 8.0 * min(paper.shape) / 64.0 / max(bright, 1)


# A thumb holding the card is bright too and joins it: an opening wider than a thumb but
# narrower than the card cuts it off. A square kernel keeps the card's corners for its
# geometry; the rectangularity is judged after a round kernel, which leaves a lamp or a
# cluster of round objects round where a square kernel would square it off.


def _sides_touched(blob: np.ndarray, shape: tuple[int, int]) -> int:
    """How many of the region's four edges the blob's bounding box reaches."""
    import cv2

    bx, by, bw, bh = cv2.boundingRect(blob)
    return int(bx <= 0) + int(by <= 0) + int(bx + bw >= shape[1]) + int(by + bh >= shape[0])


def _filled(blob: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    filled = np.zeros(shape, np.uint8)
    cv2.drawContours(filled, [blob], -1, 255, thickness=cv2.FILLED)
    return filled


def _square_kernel(blob: np.ndarray) -> np.ndarray:
    """The opening's square: 40% of the blob's shorter side (odd), wider than a thumb."""
    import cv2

    (_, _), (rw, rh), _ = cv2.minAreaRect(blob)
    k = max(3, int(0.4 * min(rw, rh)) | 1)
    return cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))


def _roundness(filled: np.ndarray, k: int) -> tuple[float, float] | None:
    """How rectangular and solid the blob (`filled`, 255 inside) is once opened by a round kernel.

    `k` is the square opening's size; the round one is half of it at half resolution. None:
    nothing is left of the blob.

    A round kernel costs its area per pixel (a square one is separable): the shape is judged at
    half resolution, where it costs a sixteenth and the decision needs no more detail.
    """
    import cv2

    h, w = filled.shape
    half = cv2.resize(filled, (w // 2, h // 2), interpolation=cv2.INTER_NEAREST)
    kh = max(3, (k // 2) | 1)
    round_ = _opened_outline(half, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kh, kh)))
    if round_ is None:
        return None
    (_, _), (bw, bh), _ = cv2.minAreaRect(round_)
    hull = cv2.contourArea(cv2.convexHull(round_))
    return hull / max(bw * bh, 1e-9), cv2.contourArea(round_) / max(hull, 1e-9)


def _opened_outline(mask: np.ndarray, kernel: np.ndarray) -> np.ndarray | None:
    """The largest outer outline of `mask` opened by `kernel` (odd-sized), in `mask`'s coordinates.

    Worked out on the blob's box only, with a blank margin wider than half the kernel: inside
    it the opening and the outlines are exactly the whole image's (outside the blob both are
    blank), at about half the cost.
    """
    import cv2

    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return None
    m = max(kernel.shape) // 2 + 2
    x0, y0 = max(0, x - m), max(0, y - m)
    box = mask[y0:min(mask.shape[0], y + h + m), x0:min(mask.shape[1], x + w + m)]
    opened = cv2.morphologyEx(box, cv2.MORPH_OPEN, kernel)
    contours, _ = cv2.findContours(opened, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x0, y0))
    return max(contours, key=cv2.contourArea) if contours else None


def _cut_upright(gray: np.ndarray, scale: float, rect: tuple, cfg: CardConfig) -> np.ndarray | None:
    """Rotate the card upright at full resolution, cut inside its rim, paint out intrusions.

    The card is its rotated box, not its bright outline: a bold stroke near the card's edge
    can merge with the dark room in the outline, and would be cut away with the room.
    """
    import cv2

    cx, cy, rw, rh, angle = _upright_geometry(cv2.boxPoints(rect) / scale)
    out_w, out_h = int(rw * (1 - 2 * cfg.margin)), int(rh * (1 - 2 * cfg.margin))
    if out_w < 8 or out_h < 8:
        return None
    # One affine warp straight into the cut-out: rotate about the card's centre, then move
    # that centre to the middle of the output (cheaper than warping the whole region).
    rot = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    rot[:, 2] += (out_w / 2 - cx, out_h / 2 - cy)
    card = cv2.warpAffine(gray, rot, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return _cleaned_card(card)


def _cleaned_card(card: np.ndarray) -> np.ndarray:
    """The cut-out card with intrusions painted over and a frame of its own paper around it."""
    import cv2

    # The card's white: its ink is a small minority, so the median is the paper.
    (median,) = percentiles_u8(card, (50.0,))
    paper = np.uint8(median)
    _paint_out_border_intrusions(card, paper)
    # What is left at the cut is ink. A frame of blank paper keeps a big digit that reaches
    # the cut from being taken for the edge of something by the photo path's border rules.
    pad = max(4, int(0.15 * max(card.shape)))
    return cv2.copyMakeBorder(card, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=int(paper))


def _tilted_card_corners(blob: np.ndarray, cfg: CardConfig) -> np.ndarray | None:
    """The four corners (float32, clockwise from top-left) of a blob shaped like a card tilted
    in depth, or None. Its outline must be a quadrilateral (`min_quad_fill`) whose more
    foreshortened pair of opposite edges lies within `tilted_far_edge`, with no corner sharper
    than `min_corner_angle`."""
    import cv2

    hull = cv2.convexHull(blob)
    quad = cv2.approxPolyDP(hull, 0.04 * cv2.arcLength(hull, True), True)
    if len(quad) != 4 or cv2.contourArea(quad) < cfg.min_quad_fill * cv2.contourArea(hull):
        return None
    corners = _clockwise_from_top_left(quad.reshape(4, 2).astype(np.float32))
    edges, lengths = _edges(corners)
    top, right, bottom, left = lengths.tolist()
    far_edge = min(min(top, bottom) / max(top, bottom, 1e-9), min(left, right) / max(left, right, 1e-9))
    low, high = cfg.tilted_far_edge
    if not low <= far_edge <= high:
        return None
    # The angle at each corner, between the edge arriving (reversed) and the edge leaving it.
    arriving = np.roll(edges, 1, axis=0)
    cosines = -(edges * arriving).sum(axis=1) / np.maximum(lengths * np.roll(lengths, 1), 1e-9)
    if np.any(np.abs(cosines) > math.cos(math.radians(cfg.min_corner_angle))):
        return None
    return corners


def _edges(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each corner's edge to the next (top, right, bottom, left when clockwise from top-left)
    and their lengths."""
    edges = np.roll(corners, -1, axis=0) - corners
    return edges, np.hypot(edges[:, 0], edges[:, 1])


def _clockwise_from_top_left(points: np.ndarray) -> np.ndarray:
    """Four corners in clockwise order (as seen on screen), the top edge first."""
    centre = points.mean(axis=0)
    order = np.argsort(np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0]))
    ring = points[order]  # y grows downwards: increasing angle is clockwise on screen
    edges, _ = _edges(ring)
    # The top edge is the flatter of the two edges that run left to right, higher of them.
    flat = np.abs(edges[:, 1]) <= np.abs(edges[:, 0])
    mid_y = (ring[:, 1] + np.roll(ring, -1, axis=0)[:, 1]) / 2
    candidates = np.flatnonzero(flat & (edges[:, 0] > 0))
    start = int(candidates[np.argmin(mid_y[candidates])]) if candidates.size else int(np.argmin(mid_y))
    return np.roll(ring, -start, axis=0)


def _square_on_size(corners: np.ndarray) -> tuple[float, float]:
    """Width and height of the card seen square-on: its longer top/bottom and left/right edges
    (the nearer edge is the less foreshortened)."""
    top, right, bottom, left = _edges(corners)[1].tolist()
    return max(top, bottom), max(left, right)


def _square_on(corners: np.ndarray) -> tuple[np.ndarray, tuple[float, float], tuple[int, int]]:
    """The homography that shows the quadrilateral `corners` as a rectangle, its size, and a
    canvas (height, width) holding it with a margin: whatever of the blob lies outside its
    corners stays in view, so the shape test judges the blob and not the canvas's edges."""
    import cv2

    w, h = _square_on_size(corners)
    m = 0.25 * max(w, h)
    target = np.float32([[m, m], [m + w, m], [m + w, m + h], [m, m + h]])
    return cv2.getPerspectiveTransform(corners, target), (w, h), (int(h + 2 * m), int(w + 2 * m))


def _cut_square_on(gray: np.ndarray, corners: np.ndarray, cfg: CardConfig) -> np.ndarray | None:
    """Cut a card tilted in depth (its `corners` at full resolution) as if seen square-on."""
    import cv2

    w, h = _square_on_size(corners)
    out_w, out_h = int(w * (1 - 2 * cfg.margin)), int(h * (1 - 2 * cfg.margin))
    if out_w < 8 or out_h < 8:
        return None
    mx, my = cfg.margin * w, cfg.margin * h  # the rim is cut off: it maps outside the output
    target = np.float32([[-mx, -my], [w - mx, -my], [w - mx, h - my], [-mx, h - my]])
    square_on = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    card = cv2.warpPerspective(gray, square_on, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    return _cleaned_card(card)


def _upright_geometry(corners: np.ndarray) -> tuple[float, float, float, float, float]:
    """Centre, width, height and rotation (degrees) that turn a tilted box upright.

    Derived from the box's corners rather than minAreaRect's angle, whose range has changed
    between OpenCV versions: the edge nearest to horizontal becomes the width. Both edges in
    one numpy call each (the corners are float32, and stay so: the cut must not move).
    """
    cx, cy = (corners.sum(axis=0) / 4).tolist()  # np.mean's own steps, without its wrapper
    edges = corners[1:3] - corners[0:2]
    lengths = np.hypot(edges[:, 0], edges[:, 1]).tolist()
    angles = np.degrees(np.arctan2(edges[:, 1], edges[:, 0])).tolist()
    # Fold each edge's direction into (-90, 90] and take the one closest to horizontal.
    folded = [((a + 90.0) % 180.0) - 90.0 for a in angles]
    i = 0 if abs(folded[0]) <= abs(folded[1]) else 1
    return cx, cy, lengths[i], lengths[1 - i], folded[i]


def _paint_out_border_intrusions(card: np.ndarray, paper: np.uint8) -> None:
    """Paint over mid-grey pieces that reach the cut: a thumb over the margin, the rim's shadow.

    A big digit may reach the cut too, so pieces are told apart by their darkness: pen ink
    keeps less than half of the paper's light, skin and shadows keep more.
    """
    import cv2

    level = float(paper)
    # card < 0.8 * level, as OpenCV's "at most the floor of T" with T just below 0.8 * level.
    _, dark = cv2.threshold(card, math.ceil(0.8 * level) - 1, 1, cv2.THRESH_BINARY_INV)
    if not (dark[0].any() or dark[-1].any() or dark[:, 0].any() or dark[:, -1].any()):
        return  # nothing dark reaches the cut (most frames): no labelling needed
    n, labels = cv2.connectedComponents(dark, connectivity=8)
    if n <= 1:
        return
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    touching = np.flatnonzero(np.bincount(edge, minlength=n)[1:]) + 1
    if not touching.size:
        return
    # Sums over the dark pixels only: every other pixel is label 0, which is never painted.
    inside = dark.view(bool)
    flat = labels[inside]
    sums = np.bincount(flat, weights=card[inside], minlength=n)
    counts = np.maximum(np.bincount(flat, minlength=n), 1)
    light = touching[sums[touching] / counts[touching] > 0.5 * level]
    if light.size:
        paint = np.zeros(n, bool)
        paint[light] = True
        card[paint[labels]] = paper
