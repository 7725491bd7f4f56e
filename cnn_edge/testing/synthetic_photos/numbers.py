"""A digit written in a number and photographed aimed at it (`number_photos`): its neighbours
beside it, cut by the frame or in full view, and the same photo without them, for a paired
comparison."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np

from cnn_edge.testing.synthetic_photos.params import DEFAULT, PhotoParams, PhotoRanges, sample_params
from cnn_edge.testing.synthetic_photos.render import INK_TRACE, glyph_ink, ink_box, photograph, place_ink

ROW_HEIGHT = 128  # pixels of the row's ink mask; `place_ink` scales it to the drawn digit size


def number_photos(glyphs: Sequence[np.ndarray], rng: np.random.Generator, gap: float = 0.3,
                  reach: float = 0.9, ranges: PhotoRanges = DEFAULT,
                  **overrides: object) -> tuple[np.ndarray, np.ndarray, PhotoParams]:
    """(photo with the neighbours, the same photo without them, its settings), uncompressed.

    `glyphs` are three ink masks (white on black): the digit, glyphs[1], is written between
    glyphs[0] and glyphs[2], each cut to its ink, as high as the others and `gap` of that height
    away. The photo of the whole row (settings drawn from `ranges`, `overrides` fixed) is cut
    to `reach` digit heights each side of the digit's centre: 0.9 cuts its neighbours at the
    frame's edges, 1.5 shows them whole. Both photos share every draw (paper, light, noise);
    only the neighbours' ink differs (and, through blur, the pixels next to it).
    """
    row, middle = _row(glyphs, gap)
    params = replace(sample_params(rng, ranges), **overrides)
    with_all = place_ink(row, params)
    alone = np.clip(with_all - place_ink(row - middle, params), 0.0, 1.0)
    box = ink_box(alone)
    if box is None:
        raise ValueError("the middle glyph has no ink")
    x0, y0, x1, y1 = box
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, reach * (y1 - y0)
    h, w = with_all.shape
    cut = (slice(max(0, int(cy - half)), min(h, int(cy + half))),
           slice(max(0, int(cx - half)), min(w, int(cx + half))))
    # The same draws for both: the same desk-edge box, and the neighbours' ink kept at the least
    # coverage `apply_ink` counts (INK_TRACE: absorbing 0.1%, under a grey level), so its uneven-ink
    # noise covers the same box and every later draw (sensor noise) falls on the same pixels.
    alone = np.maximum(alone, np.where(with_all >= INK_TRACE, INK_TRACE, 0.0).astype(np.float32))
    seed, avoid = int(rng.integers(2**63)), ink_box(with_all)
    among, only = (np.ascontiguousarray(photograph(a, params, np.random.default_rng(seed), avoid)[cut])
                   for a in (with_all, alone))
    return among, only, params


def _row(glyphs: Sequence[np.ndarray], gap: float) -> tuple[np.ndarray, np.ndarray]:
    """The three glyphs side by side at one height (uint8 ink), and the middle one alone in place.

    Each glyph spans the row's full height, so the row's ink box is the same with or without the
    middle one: `place_ink` then puts both at the same size and place.
    """
    if len(glyphs) != 3:
        raise ValueError(f"a number here is three glyphs, got {len(glyphs)}")
    cut = [glyph_ink(g) for g in glyphs]
    sized = [cv2.resize(c, (max(1, round(ROW_HEIGHT * c.shape[1] / c.shape[0])), ROW_HEIGHT),
                        interpolation=cv2.INTER_AREA) for c in cut]
    space = np.zeros((ROW_HEIGHT, round(gap * ROW_HEIGHT)), np.uint8)
    row = np.concatenate([sized[0], space, sized[1], space, sized[2]], axis=1)
    middle = np.zeros_like(row)
    x0 = sized[0].shape[1] + space.shape[1]
    middle[:, x0:x0 + sized[1].shape[1]] = sized[1]
    return row, middle
