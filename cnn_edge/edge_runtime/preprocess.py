"""Turn a photo of a handwritten digit into an MNIST-like 28x28 input, the way MNIST was made.

MNIST digits are white on black, anti-aliased, their bounding box fitted into 20x20 with the
aspect ratio kept, and the 20x20 box placed so the centre of mass sits at the middle of a
28x28 image. A phone photo or camera frame is none of that: dark ink on light paper, any
size and place, uneven light, noise, JPEG blocks, a card edge or the table around it. The
steps below bring one to the other; each exists because a photo broke the step before it.

`preprocess` is pure numpy + OpenCV (no model), and returns None rather than a guess when
there is no digit to be seen: blank paper, a 1x1 image, pure noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUT_SIZE = 28
BOX_SIZE = 20
# Real ink on lit paper is darker than its paper by a few dozen grey levels at least.
MIN_INK_LEVELS = 24.0


@dataclass(frozen=True)
class PreprocessConfig:
    """Tuning knobs; the defaults were tuned on the synthetic photo sets (see benchmarks).

    work_size: longest side the search runs at. Larger images are shrunk first (speed, and
        kernel sizes that mean the same thing at any resolution); a small digit found in a
        large photo is then re-cut from the full-resolution image.
    min_ink: least darkness (0-1, relative to the local paper brightness) that counts as ink;
        keeps sensor noise, JPEG blocks and paper texture out of the digit.
    min_contrast: least median darkness of the digit's ink; below that it is a shadow or a
        smudge, not a pen stroke -> no digit.
    min_digit_frac: least height of the digit, as a fraction of the image's longest side.
    find_card: first look for the paper in the view (a card held up, or a page filling it;
        `cnn_edge.edge_runtime.card`) and answer "no digit" when there is none. The camera
        path turns it on: its search region also holds the room around the card.
    """

    work_size: int = 160
    min_ink: float = 0.12
    min_contrast: float = 0.2
    min_digit_frac: float = 0.03
    find_card: bool = False


DEFAULT = PreprocessConfig()
CAMERA = PreprocessConfig(find_card=True)


def use_one_opencv_thread() -> None:
    """Run OpenCV's functions single-threaded, process-wide (the edge runtime's setting).

    The runtime hands OpenCV small images (a ~288x288 camera region, a 28x28 digit): there its
    thread pool costs more than it saves. Measured on 2 cores: the camera region 1.06 -> 0.93 ms,
    640x480 photos 1.19 -> 1.10 ms, output identical on 1,857 bench images. The cores are better
    left to the camera thread and the interpreter.
    """
    import cv2

    cv2.setNumThreads(0)


def preprocess(image: np.ndarray, config: PreprocessConfig = DEFAULT) -> np.ndarray | None:
    """Photo (H,W) grey or (H,W,3) BGR, any dtype -> (28,28) uint8 white-on-black digit, or None."""
    import cv2

    gray = to_gray_u8(image)
    if gray is None or min(gray.shape) < 8:
        return None  # too small to hold a readable digit (a 1x1 image, a thin strip)
    light_paper = False
    if config.find_card:
        from cnn_edge.edge_runtime.card import find_paper

        paper = find_paper(gray)
        if paper is None:
            return None  # no card or page in view: the room itself holds no digit
        light_paper = paper is not gray  # a card was cut out: bright paper by construction
        gray = paper
    shrunk = _resize_max(gray, config.work_size)
    if not light_paper and _is_light_on_dark(shrunk[0]):
        gray = cv2.bitwise_not(gray)
        shrunk = (cv2.bitwise_not(shrunk[0]), shrunk[1])
    return _preprocess_gray(gray, config, allow_refine=True, shrunk=shrunk)


def center_roi(frame: np.ndarray, fraction: float) -> tuple[int, int, int, int]:
    """The centred square (x, y, side, side) covering `fraction` of the frame's shorter side."""
    h, w = frame.shape[:2]
    side = max(1, min(h, w, int(round(min(h, w) * fraction))))
    return (w - side) // 2, (h - side) // 2, side, side


def to_gray_u8(image: np.ndarray) -> np.ndarray | None:
    """Any 2-D or 3-D (1/3/4 channel) array of any numeric dtype -> uint8 grey; None if it is not an image."""
    import cv2

    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.size == 0 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        return None
    if a.dtype != np.uint8:
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) or np.iscomplexobj(a):
            return None
        a = _scale_to_u8(a)
    if a.ndim == 3:
        # OpenCV reads a camera frame's region in place (rows may be strided, pixels may not):
        # only a 4-channel image needs its first three channels copied out.
        bgr = a if a.shape[2] == 3 else np.ascontiguousarray(a[:, :, :3])
        a = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(a)


def _scale_to_u8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint16:
        return (a >> 8).astype(np.uint8)
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    f = a.astype(np.float64)
    finite = np.isfinite(f)
    if not finite.all():
        f = np.where(finite, f, 0.0)
    lo, hi = float(f.min()), float(f.max())
    if np.issubdtype(a.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        f = f * 255.0  # float images conventionally hold 0..1
    elif lo < 0.0 or hi > 255.0:
        # Halved first: hi - lo overflows to inf (and the pixels to NaN) near the float's limits.
        # A span so small that 255/span overflows (subnormal numbers) is a flat image.
        gain = 255.0 / (hi / 2 - lo / 2) if hi > lo else np.inf
        f = (f / 2 - lo / 2) * gain if np.isfinite(gain) else np.zeros_like(f)
    return np.clip(f + 0.5, 0, 255).astype(np.uint8)


def _resize_max(gray: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    import cv2

    h, w = gray.shape
    scale = min(1.0, size / max(h, w))
    if scale >= 1.0:
        return gray, 1.0
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    return cv2.resize(gray, (nw, nh), interpolation=cv2.INTER_AREA), scale


def percentiles_u8(gray: np.ndarray, ps: tuple[float, ...]) -> list[int]:
    """Percentiles of a uint8 image (a 256-bin histogram: ~10x faster than np.percentile here)."""
    hist = np.bincount(gray.ravel(), minlength=256).cumsum()
    total = hist[-1]
    return [int(np.searchsorted(hist, total * p / 100.0)) for p in ps]


def _is_light_on_dark(small: np.ndarray) -> bool:
    """True when the ink is the bright side (chalk on a blackboard, an MNIST-style image).

    Decided once, on the whole view, never on a close crop of the digit. Ink is the long tail
    away from the paper's level; dark ink on light paper is the documented case, so only a
    clearly longer bright tail flips it (a lighting gradient spreads both tails about equally).
    The paper's level must look dark both in the central half and along the border: the centre
    alone is ink when a bold digit fills it (that inverted big bold 8s and 6s), the border
    alone is the desk around a card held to the camera. Both dark is also a strip of paper
    beside a wide dark desk: there the bright side is too wide to be strokes (`_too_wide_for_ink`).
    """
    h, w = small.shape
    p_lo, p_hi = percentiles_u8(small, (0.5, 99.5))
    (centre,) = percentiles_u8(small[h // 4:h - h // 4, w // 4:w - w // 4], (50,))
    ring = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    (border,) = percentiles_u8(ring, (50,))
    if not all(p_hi - level > 2 * (level - p_lo) + 10 for level in (centre, border)):
        return False
    return not _too_wide_for_ink(small, (max(centre, border) + p_hi) / 2)


def _too_wide_for_ink(small: np.ndarray, level: float) -> bool:
    """Whether the pixels brighter than `level` are mostly areas wider than any pen stroke.

    Inverted, they would be the ink; but step 2 of `_preprocess_gray` takes for paper whatever
    its closing cannot erase, so it would read such areas as paper and the real paper beside
    them as ink (a paper strip on a dark desk became a bar, or 'no digit'). The same kernel,
    as an opening of the bright side, keeps what is too wide to be a stroke. Measured: of the
    bright side of 2,000 MNIST test digits (28x28 and 280x280) nothing stays; of the 23 bench
    photos of paper beside a dark desk, 44-100%.
    """
    import cv2

    _, bright = cv2.threshold(_half(small), level, 1, cv2.THRESH_BINARY)
    wide = cv2.morphologyEx(bright, cv2.MORPH_OPEN, _paper_kernel(small.shape))
    return cv2.countNonZero(wide) > 0.25 * cv2.countNonZero(bright)


def _half(small: np.ndarray) -> np.ndarray:
    """`small` at half resolution, where step 2 estimates the paper (it varies slowly)."""
    import cv2

    h, w = small.shape
    return cv2.resize(small, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def _paper_kernel(shape: tuple[int, int]) -> np.ndarray:
    """Step 2's square kernel, wider than any stroke, for the half-resolution image of `shape`."""
    import cv2

    k = max(3, (min(shape) // 6) | 1)
    return cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))


def _closing_to_the_edge(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A morphological closing that also holds at the image's edges.

    OpenCV's default border lets both halves of a closing ignore what lies outside, so within a
    kernel of an edge the closing keeps the dilation's brighter values: paper that darkens
    towards the edge (vignetting, a shadow, a gradient) comes out darker than its "paper", a
    band of ink along the edge, which swallowed digits near it and joined big ones to it. The
    image continued outward (edge pixels repeated) keeps the closing of a gradient the gradient.
    """
    import cv2

    ry, rx = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = cv2.copyMakeBorder(image, ry, ry, rx, rx, cv2.BORDER_REPLICATE)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, kernel)
    return closed[ry:ry + image.shape[0], rx:rx + image.shape[1]]


def _preprocess_gray(
    gray: np.ndarray,
    cfg: PreprocessConfig,
    allow_refine: bool,
    shrunk: tuple[np.ndarray, float] | None = None,
) -> np.ndarray | None:
    """Dark ink on light paper -> 28x28; `shrunk` is `_resize_max(gray)` when the caller has it."""
    import cv2

    small, scale = shrunk if shrunk is not None else _resize_max(gray, cfg.work_size)
    h, w = small.shape

    # 1. Polarity was settled once, on the whole view (see `_is_light_on_dark`): the image is
    #    dark ink on light paper from here on.
    paper = small

    # 2. Separate ink from paper under uneven light: estimate the paper's own brightness
    #    with a morphological closing wider than any stroke (it erases the dark strokes but,
    #    unlike a plain max filter, keeps the edges of big dark areas: a shadow, the desk
    #    beside a card), then measure each pixel's darkness relative to its local paper. A
    #    shadow dims paper and ink alike, so the ratio stays put where a global threshold would
    #    swallow half the page. Done at half resolution: the paper varies slowly.
    bg = _closing_to_the_edge(_half(paper), _paper_kernel((h, w)))
    # INTER_LINEAR_EXACT: plain INTER_LINEAR rounds differently on aarch64 (NEON) than on
    # x86, which flipped camera labels under Pi emulation; the exact variant agrees bit for bit.
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR_EXACT)
    bg8 = cv2.max(bg, 8)  # np.maximum(bg, 8), at a third of the cost on uint8
    bgf = bg8.astype(np.float32)
    # dark = clip(1 - paper / bgf, 0, 1), in place (this runs on every pixel); 1 - a ratio
    # of non-negatives is at most 1, so only the lower bound can bite.
    dark = paper.astype(np.float32)
    np.divide(dark, bgf, out=dark)
    np.subtract(1.0, dark, out=dark)
    np.maximum(dark, 0.0, out=dark)
    dark8 = (dark * 255.0).astype(np.uint8)

    # 3. Threshold: Otsu between ink and paper, but never below `min_ink`, so that a blank
    #    page's noise (which Otsu happily splits in two) is not called ink. (OpenCV compares
    #    8-bit pixels with the floor of a fractional threshold: the same test as `> thr`.)
    otsu, binary = cv2.threshold(dark8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    thr = max(float(otsu), cfg.min_ink * 255.0)
    if thr > otsu:
        _, binary = cv2.threshold(dark8, thr, 1, cv2.THRESH_BINARY)

    # 4. Find the digit: all of its strokes (a 5's separate bar, a 4 drawn in two strokes,
    #    pen breaks), not just the largest piece; but not specks, borders, or card edges.
    keep = _select_digit(binary, dark, bg8, paper, cfg)
    if keep is None:
        return None
    x0, y0, x1, y1, mask = keep  # `mask`: the digit's pixels within its box
    bh, bw = y1 - y0, x1 - x0
    if max(bh, bw) < max(5, cfg.min_digit_frac * max(h, w)):
        return None
    box = (slice(y0, y1), slice(x0, x1))
    # Medians and percentiles from 256-bin histograms of whole grey levels: np.median and
    # np.percentile sort, and cost more than the rest of this function together.
    ink8 = dark8[box][mask]
    contrast8, ink60 = percentiles_u8(ink8, (50, 60))
    if contrast8 < cfg.min_contrast * 255.0:
        return None
    # Relative darkness means nothing in the dark: a lens cap's noise is "30% darker" too.
    # Real ink on lit paper differs from it by a few dozen grey levels at least. (Whole grey
    # levels: OpenCV's saturating subtraction is clip(bgf - paper, 0, 255) exactly; and the
    # median is below MIN_INK_LEVELS exactly when at least half the pixels are, which a
    # count answers without a histogram.)
    depth8 = cv2.subtract(bg8[box], paper[box])[mask]
    if np.count_nonzero(depth8 < MIN_INK_LEVELS) >= depth8.size * 0.5:
        return None

    # A small digit in a big photo: cut it out of the full-resolution image and start again,
    # so its strokes are measured at their real resolution rather than a few shrunk pixels.
    if allow_refine and scale < 1.0 and max(bh, bw) < 0.45 * cfg.work_size:
        margin = 0.6 * max(bh, bw)
        H, W = gray.shape
        gx0 = max(0, int((x0 - margin) / scale))
        gy0 = max(0, int((y0 - margin) / scale))
        gx1 = min(W, int((x1 + margin) / scale) + 1)
        gy1 = min(H, int((y1 + margin) / scale) + 1)
        return _preprocess_gray(gray[gy0:gy1, gx0:gx1], cfg, allow_refine=False)

    # 5. Grey levels like MNIST's anti-aliased strokes: map darkness from the threshold's
    #    half (0) to the typical ink darkness (255), and blank everything but the digit.
    lo = 0.5 * thr / 255.0
    hi = max(ink60 / 255.0, lo + 0.05)
    crop = dark[box]
    m = cv2.dilate(mask.view(np.uint8), None)  # None: OpenCV's 3x3 square
    # soft = clip((crop - lo) / (hi - lo), 0, 1) * m * 255, in place (float32 throughout)
    soft = crop - lo
    np.divide(soft, hi - lo, out=soft)
    np.clip(soft, 0.0, 1.0, out=soft)
    np.multiply(soft, m, out=soft)
    np.multiply(soft, 255.0, out=soft)
    return _fit_and_center(soft.astype(np.uint8))


def _components(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, int, int] | None:
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


def _border_labels(labels: np.ndarray, ox: int, oy: int, h: int, w: int) -> list[np.ndarray]:
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


def _select_digit(binary: np.ndarray, dark: np.ndarray, bg8: np.ndarray, paper: np.ndarray,
                  cfg: PreprocessConfig):
    """The digit's pieces among the ink's connected components: (x0, y0, x1, y1, mask in the box).

    Per piece in plain Python: past the specks (dropped first, in one numpy step: a noisy
    photo can hold thousands) a frame holds a handful of pieces, and numpy's per-call cost
    on a handful of numbers was most of this function's time.
    """
    import cv2

    h, w = binary.shape
    found = _components(binary)
    if found is None or found[0] <= 1:
        return None
    n, labels, stats, centroids, ox, oy = found
    box = (slice(oy, oy + labels.shape[0]), slice(ox, ox + labels.shape[1]))
    rects = stats.tolist()  # per label: x, y, width, height, area

    # Border pixels per component: a card edge or the table runs along the border; a digit,
    # at most, touches it at a few points.
    border = _border_labels(labels, ox, oy, h, w)
    on_border = np.bincount(np.concatenate(border) if border else np.zeros(0, np.int32), minlength=n).tolist()
    perimeter = 2 * w + 2 * max(h - 2, 0)
    min_area = max(3, int(0.0004 * h * w))
    pieces = (np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= min_area) + 1).tolist()  # not specks
    pieces = [i for i in pieces if _stroke_shaped(rects[i], on_border[i], h, w, perimeter)]
    if not pieces:
        return None
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
              and depth_sum[i] / rects[i][4] >= MIN_INK_LEVELS]
    if not pieces:
        return None

    # The digit's main piece: the largest, favouring the centre (a photo is aimed at it);
    # the first of equal scores.
    off = np.hypot((centroids[:, 0] - w / 2) / w, (centroids[:, 1] - h / 2) / h).tolist()
    main = max(pieces, key=lambda i: rects[i][4] * (1.0 - 0.8 * min(max(off[i], 0.0), 1.0)))
    x0, y0, bw, bh, _ = rects[main]
    x1, y1 = x0 + bw, y0 + bh
    chosen = [main]

    # Add the other strokes that sit within reach of the digit's box and are not specks
    # next to it; grow the box and look again (a 4's two strokes, a 5's cap).
    for _ in range(3):
        size = max(x1 - x0, y1 - y0)
        reach = 0.2 * size
        least = max(3, 0.03 * sum(rects[i][4] for i in chosen))
        added = False
        for i in pieces:
            x, y, pw, ph, area = rects[i]
            if i in chosen or area < least:
                continue
            if x + pw >= x0 - reach and x <= x1 + reach and y + ph >= y0 - reach and y <= y1 + reach:
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

    # Only the box: every chosen piece lies inside it, and the whole image costs ~5x more.
    in_box = labels[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    if len(chosen) == 1:  # the usual case: a comparison is cheaper than a look-up table
        return x0, y0, x1, y1, in_box == main
    lut = np.zeros(n, bool)
    lut[chosen] = True
    return x0, y0, x1, y1, lut[in_box]


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


def _fit_and_center(digit: np.ndarray) -> np.ndarray | None:
    """Fit the digit's box into 20x20 keeping the aspect ratio; centre of mass at (14, 14)."""
    import cv2

    h, w = digit.shape
    s = BOX_SIZE / max(h, w)
    nw, nh = max(1, int(round(w * s))), max(1, int(round(h * s)))
    interp = cv2.INTER_AREA if s < 1.0 else cv2.INTER_LINEAR_EXACT  # exact: same on ARM and x86
    box = cv2.resize(digit, (nw, nh), interpolation=interp)
    m = cv2.moments(box, binaryImage=False)
    if m["m00"] <= 0:
        return None
    cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
    # Shift so the centre of mass lands on the centre; like MNIST, part of a lopsided digit
    # may end up nearer the edge than the 4-pixel margin.
    ox = int(round(OUT_SIZE / 2 - cx))
    oy = int(round(OUT_SIZE / 2 - cy))
    ox = min(max(ox, 0), OUT_SIZE - nw)
    oy = min(max(oy, 0), OUT_SIZE - nh)
    out = np.zeros((OUT_SIZE, OUT_SIZE), np.uint8)
    out[oy:oy + nh, ox:ox + nw] = box
    return out
