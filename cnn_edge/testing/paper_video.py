"""A video of a sheet of paper filling the camera's view, one handwritten digit near its centre.

The card video (`synthetic_photos.make_card_video`) holds cards up in a room: the camera path's
search region then holds the card's edge and the room, and `card.find_paper` cuts the card out.
A Pi camera on a stand over a desk, or a phone held over a page, sees only paper: no card edge
anywhere in the region, so the whole region goes through the photo path. This is that case:
each digit is one photo from `render_photo_info` framed to fill 640x480 (no card edge, no JPEG
of its own, no motion blur), shown for a few frames with a hand's small drift and fresh sensor
noise on every frame, written as MJPG at 15 FPS like a USB webcam's cheaper mode.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from cnn_edge.common.atomic import atomic_path
from cnn_edge.testing.synthetic_photos import DEFAULT, GlyphSet, PhotoRanges, as_glyph_set, render_photo_info

# The page as a camera over it sees it: the digit 20-35% of the frame height (inside the camera
# path's default region, 60% of the height), near the centre, any paper, light and pen of the
# photo renderer, but no card edge, no desk, no blur from motion and only light sensor noise.
PAPER_PAGE = replace(
    DEFAULT, digit_height=(0.2, 0.35), card_edge_prob=0.0, motion_prob=0.0, jpeg_prob=0.0, grey_prob=0.0,
    read_noise=(1.0, 3.0), shot_noise=(0.0, 0.2),
)


@dataclass(frozen=True)
class PaperVideoRanges:
    """How the page moves and how noisy each frame is."""

    page: PhotoRanges = PAPER_PAGE
    centre: tuple[float, float] = (0.4, 0.6)  # where the digit sits in its free room, per axis
    drift_px: float = 3.0  # a hand's slow drift, at most this far from the first frame
    frame_noise: tuple[float, float] = (1.0, 2.5)  # per-frame Gaussian noise std, 0-255 units
    mjpg_quality: int = 85


def make_paper_video(
    path: str | os.PathLike[str],
    glyphs: GlyphSet | np.ndarray | Sequence[np.ndarray],
    labels: Sequence[int] | np.ndarray | None = None,
    frames_per_digit: int = 15,
    size: tuple[int, int] = (640, 480),
    fps: float = 15.0,
    seed: int = 0,
    ranges: PaperVideoRanges = PaperVideoRanges(),  # noqa: B008  (frozen: a shared default is safe)
) -> list[int]:
    """Write the MJPG .avi (atomically); return the label of every frame."""
    gs = as_glyph_set(glyphs, labels)
    rng = np.random.default_rng(seed)
    per_frame: list[int] = []
    target = Path(path)
    with atomic_path(target) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), float(fps), size)
        if not writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write MJPG video to {target}")
        writer.set(cv2.VIDEOWRITER_PROP_QUALITY, ranges.mjpg_quality)
        try:
            for mask, label in zip(gs.masks, gs.labels, strict=True):
                page = _page(mask, rng, ranges, size)
                for frame in _frames(page, frames_per_digit, rng, ranges):
                    writer.write(frame)
                    per_frame.append(int(label))
        finally:
            writer.release()
    return per_frame


def _page(mask: np.ndarray, rng: np.random.Generator, r: PaperVideoRanges,
          size: tuple[int, int]) -> np.ndarray:
    """One photo of the digit on a page as large as the frame, the digit near its centre."""
    centre = (float(rng.uniform(*r.centre)), float(rng.uniform(*r.centre)))
    photo = render_photo_info(mask, rng, r.page, frame_size=size, centre=centre, grey=False)
    return photo.image


def _frames(page: np.ndarray, n: int, rng: np.random.Generator, r: PaperVideoRanges) -> list[np.ndarray]:
    """`n` frames of the page: a slow drift (a random walk, bounded) and fresh noise in each."""
    h, w = page.shape[:2]
    offset, frames = np.zeros(2), []
    for _ in range(n):
        offset = np.clip(offset + rng.normal(0.0, r.drift_px / 3, 2), -r.drift_px, r.drift_px)
        shift = np.float32([[1, 0, offset[0]], [0, 1, offset[1]]])
        moved = cv2.warpAffine(page, shift, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        noise = rng.standard_normal((h, w), dtype=np.float32) * float(rng.uniform(*r.frame_noise))
        frames.append(np.clip(moved + noise[..., None] + 0.5, 0, 255).astype(np.uint8))
    return frames
