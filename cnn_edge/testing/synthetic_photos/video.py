"""An MJPG video of digit cards held up in the middle of the frame, in a cluttered room
(`make_card_video`)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from cnn_edge.common.atomic import atomic_path
from cnn_edge.testing.synthetic_photos.glyphs import GlyphSet, as_glyph_set
from cnn_edge.testing.synthetic_photos.params import DEFAULT, Range, Size, sample_params, uniform
from cnn_edge.testing.synthetic_photos.render import (
    apply_ink,
    draw_paper,
    illumination,
    place_ink,
    smooth_noise,
)


@dataclass(frozen=True)
class VideoRanges:
    """How the held-up cards vary. Fractions of the frame height unless said otherwise."""

    card_height: Range = (0.28, 0.38)  # the runtime's default region fits a card of ~1/3 height
    card_aspect: Range = (0.7, 1.0)  # width / height
    digit_on_card: Range = (0.55, 0.75)  # digit height / card height
    offset: Range = (-0.04, 0.04)  # where the card is held, from the frame centre
    rotation_deg: Range = (-8.0, 8.0)
    jitter: Range = (0.005, 0.02)  # hand tremor amplitude
    jitter_rotation_deg: float = 2.0
    stroke_scale: Range = (0.9, 1.5)  # markers on cards run thicker than pens
    ink_darkness: Range = (0.8, 0.95)
    thumb_prob: float = 0.5  # a thumb over the card's bottom margin
    light_swing: Range = (0.0, 0.15)  # slow exposure change over the video
    exposure: Range = (0.7, 1.05)
    background_blur: Range = (1.5, 4.0)  # the room behind is out of focus, sigma in pixels
    read_noise: Range = (1.5, 5.0)
    mjpg_quality: int = 85


def make_card_video(
    path: str | os.PathLike[str],
    glyphs: GlyphSet | np.ndarray | Sequence[np.ndarray],
    labels: Sequence[int] | np.ndarray | None = None,
    frames_per_card: int = 30,
    size: Size = (640, 480),
    fps: float = 30.0,
    seed: int = 0,
    *,
    gap_frames: int = 0,
    ranges: VideoRanges = VideoRanges(),  # noqa: B008  (frozen, so a shared default is safe)
) -> list[int | None]:
    """Write an MJPG .avi of digit cards held up in the middle of the frame, one card per glyph.

    Each card is shown for `frames_per_card` frames with hand tremor, a slight tilt, changing
    light, a cluttered out-of-focus room behind and sensor noise; `gap_frames` frames of the bare
    room follow each card. Returns the label of every frame (None in gaps). Written atomically.
    """
    gs = as_glyph_set(glyphs, labels)
    rng = np.random.default_rng(seed)
    w, h = size
    room = _room_background(rng, (h, w), ranges)
    light_phase, light_swing = float(rng.uniform(0, 2 * np.pi)), uniform(rng, ranges.light_swing)
    exposure = uniform(rng, ranges.exposure)
    lamp = replace(sample_params(rng, DEFAULT), frame_size=(w, h), exposure=1.0, shadow=0.0)
    gradient = illumination(lamp, (h, w))  # fixed for the video: the room's lamps do not move
    per_frame: list[int | None] = []
    target = Path(path)
    with atomic_path(target) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), float(fps), (w, h))
        if not writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write MJPG video to {target}")
        writer.set(cv2.VIDEOWRITER_PROP_QUALITY, ranges.mjpg_quality)
        try:
            t = 0
            for mask, label in zip(gs.masks, gs.labels, strict=True):
                card = _Card.make(mask, rng, ranges, (h, w))
                for f in range(frames_per_card + gap_frames):
                    shown = f < frames_per_card
                    light = exposure * (1 + light_swing * math.sin(light_phase + t / fps * 0.8)) * gradient
                    scene = card.draw(room, f / fps, (h, w)) if shown else room
                    writer.write(_video_camera(scene, light, rng, ranges))
                    per_frame.append(int(label) if shown else None)
                    t += 1
        finally:
            writer.release()
    return per_frame


def _room_background(rng: np.random.Generator, shape: tuple[int, int], r: VideoRanges) -> np.ndarray:
    """A desk/room-like reflectance image: a grainy base, furniture-like shapes, out of focus."""
    h, w = shape
    base = _muted_colour(rng, 0.2, 0.6)
    grain = smooth_noise(rng, (h, max(w // 12, 2)), cell=3)  # streaks like wood grain or fabric
    shade = 1 + 0.25 * cv2.resize(grain, (w, h)) + 0.2 * smooth_noise(rng, (h, w), h // 6)
    room = base * shade[..., None]
    for _ in range(int(rng.integers(6, 14))):
        colour = tuple(float(v) for v in _muted_colour(rng, 0.05, 0.9))
        cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        kind = rng.random()
        if kind < 0.45:  # books, screens, boxes
            rw, rh = int(rng.uniform(0.05, 0.35) * w), int(rng.uniform(0.05, 0.35) * h)
            box = cv2.boxPoints(((cx, cy), (rw, rh), float(rng.uniform(-30, 30)))).astype(np.int32)
            cv2.fillConvexPoly(room, box, colour, cv2.LINE_AA)
        elif kind < 0.8:  # mugs, lamps, plants
            axes = (int(rng.uniform(0.03, 0.12) * w), int(rng.uniform(0.03, 0.15) * h))
            cv2.ellipse(room, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        else:  # cables, shelf edges
            x2, y2 = int(rng.uniform(0, w)), int(rng.uniform(0, h))
            cv2.line(room, (cx, cy), (x2, y2), colour, int(rng.integers(2, 8)), cv2.LINE_AA)
    return cv2.GaussianBlur(np.clip(room, 0, 1), (0, 0), uniform(rng, r.background_blur))


def _muted_colour(rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """A BGR colour of brightness in [low, high] with the modest saturation of real rooms."""
    grey = rng.uniform(low, high)
    return np.clip(grey * (1 + rng.uniform(-0.35, 0.35, 3)), 0, 1).astype(np.float32)


@dataclass(frozen=True, eq=False)
class _Card:
    """One card: its face (reflectance), its rest pose, and the tremor that moves it."""

    face: np.ndarray  # (ch, cw, 3) float32
    centre: tuple[float, float]  # pixels
    rotation: float  # degrees
    tremor: np.ndarray  # (axis x/y/angle, amplitude/frequency Hz/phase, 3 sinusoids)
    thumb: tuple[float, float] | None  # position along the bottom edge (0..1), size (of card width)
    skin: tuple[float, float, float]

    @staticmethod
    def make(mask: np.ndarray, rng: np.random.Generator, r: VideoRanges, frame: tuple[int, int]) -> _Card:
        h, w = frame
        ch = uniform(rng, r.card_height) * h
        cw = ch * uniform(rng, r.card_aspect)
        face_params = replace(
            sample_params(rng, DEFAULT),
            frame_size=(int(round(cw)), int(round(ch))),
            digit_height=uniform(rng, r.digit_on_card),
            rotation_deg=float(rng.uniform(-4, 4)),
            corner_jitter=(0.0,) * 8,
            centre=(float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.35, 0.65))),
            stroke_scale=uniform(rng, r.stroke_scale),
            paper_bgr=tuple(float(v) for v in rng.uniform(0.86, 0.97, 3)),
            ink_darkness=uniform(rng, r.ink_darkness),
            lines=None, card_edge=False,
        )
        alpha = place_ink(mask, face_params)
        face = apply_ink(draw_paper(face_params, rng, avoid=None), alpha, face_params, rng)
        # Tremor: per axis, 3 sinusoids of 0.3-4 Hz whose amplitudes add up to about `jitter`.
        amp = np.array([uniform(rng, r.jitter) * h] * 2 + [r.jitter_rotation_deg])
        tremor = np.stack([
            rng.dirichlet(np.ones(3), 3) * amp[:, None],
            rng.uniform(0.3, 4.0, (3, 3)),
            rng.uniform(0, 2 * np.pi, (3, 3)),
        ], axis=1)
        thumb = None
        if rng.random() < r.thumb_prob:
            thumb = (float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.25, 0.35)))
        return _Card(
            face=face,
            centre=(w / 2 + uniform(rng, r.offset) * h, h / 2 + uniform(rng, r.offset) * h),
            rotation=uniform(rng, r.rotation_deg),
            tremor=tremor,
            thumb=thumb,
            skin=tuple(float(v) for v in np.array([0.45, 0.55, 0.75]) * rng.uniform(0.5, 1.1)),
        )

    def _wobble(self, t: float, axis: int) -> float:
        """Hand tremor on `axis` (0: x, 1: y, 2: angle) at `t` seconds: a sum of slow sinusoids."""
        amp, freq, phase = self.tremor[axis]
        return float(np.sum(amp * np.sin(2 * np.pi * freq * t + phase)))

    def draw(self, room: np.ndarray, t: float, frame: tuple[int, int]) -> np.ndarray:
        """The room with the card (and thumb) at time `t` seconds."""
        h, w = frame
        ch, cw = self.face.shape[:2]
        cx, cy = self.centre[0] + self._wobble(t, 0), self.centre[1] + self._wobble(t, 1)
        angle = math.radians(self.rotation + self._wobble(t, 2))
        rot = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
        corners = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
        dst = (corners @ rot + [cx, cy]).astype(np.float32)
        src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
        hom = cv2.getPerspectiveTransform(src, dst)
        face = cv2.warpPerspective(self.face, hom, (w, h), flags=cv2.INTER_LINEAR)
        cover = cv2.warpPerspective(np.ones((ch, cw), np.float32), hom, (w, h), flags=cv2.INTER_LINEAR)
        scene = room * (1 - cover[..., None]) + face * cover[..., None]
        if self.thumb is not None:
            self._draw_thumb(scene, dst, angle)
        return scene

    def _draw_thumb(self, scene: np.ndarray, corners: np.ndarray, angle: float) -> None:
        """A thumb holding the card: an ellipse whose tip covers part of the bottom margin."""
        along, size = self.thumb
        cw = float(np.linalg.norm(corners[2] - corners[3]))
        axes = (int(size * cw / 2), int(size * cw * 1.2))
        bottom = corners[3] + (corners[2] - corners[3]) * along
        down = np.array([-math.sin(angle), math.cos(angle)])  # the card's "down" in the frame
        centre = bottom + down * axes[1] * 0.6  # so the thumb's tip covers the bottom margin
        cv2.ellipse(scene, (int(centre[0]), int(centre[1])), axes, math.degrees(angle), 0, 360,
                    self.skin, -1, cv2.LINE_AA)


def _video_camera(scene: np.ndarray, light: np.ndarray, rng: np.random.Generator,
                  r: VideoRanges) -> np.ndarray:
    """Light, a little softness and noise for one video frame (uint8 BGR)."""
    img = scene * (light[..., None] * 255.0)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    noise = rng.standard_normal(img.shape[:2], dtype=np.float32) * uniform(rng, r.read_noise)
    return np.clip(img + noise[..., None] + 0.5, 0, 255).astype(np.uint8)
