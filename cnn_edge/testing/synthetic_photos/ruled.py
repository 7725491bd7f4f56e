"""A digit written on a line that runs across the whole photo (a ruled page's line, a form's rule)
and sitting on it, so that the line's ink joins the digit's (`on_a_rule`)."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from cnn_edge.testing.synthetic_photos.params import DEFAULT, PhotoRanges, sample_params
from cnn_edge.testing.synthetic_photos.render import (
    fixed_point,
    ink_box,
    jpeg_roundtrip,
    photograph,
    place_ink,
)


def on_a_rule(glyph: np.ndarray, rng: np.random.Generator, line: float = 0.04, ranges: PhotoRanges = DEFAULT,
              **overrides: object) -> np.ndarray:
    """A photo of `glyph` sitting on a straight line across the frame, as `render_photo` returns it.

    The line runs along the paper's tilt through the digit's lowest ink, `line` of the digit's
    height thick, in the digit's ink (the harder case: a printed line is often lighter). Every
    draw is `render_photo`'s for the same `rng`, so the photo pairs with the digit's photo
    without the line.
    """
    params = replace(sample_params(rng, ranges), **overrides)
    alpha = place_ink(glyph, params)
    box = ink_box(alpha)
    if box is None or not (alpha > 0.5).any():
        raise ValueError("the glyph has no ink")
    a = math.radians(params.rotation_deg)
    along = np.array([math.cos(a), math.sin(a)])  # the digit's level, as `place_ink` turned it
    ys, xs = np.nonzero(alpha > 0.5)
    lowest = int(np.argmax(ys * math.cos(a) - xs * math.sin(a)))  # farthest down across the level
    h, w = alpha.shape
    reach = math.hypot(w, h)
    p0, p1 = (np.array([xs[lowest], ys[lowest]]) + s * reach * along for s in (-1, 1))
    thick = max(1, round(line * (box[3] - box[1])))
    rule = np.zeros_like(alpha)
    cv2.line(rule, fixed_point(p0), fixed_point(p1), 1.0, thick, cv2.LINE_AA, shift=4)
    image = photograph(np.maximum(alpha, rule), params, rng, avoid=box)
    return jpeg_roundtrip(image, params.jpeg_quality)
