"""What a photo may look like (`PhotoRanges`, presets `EASY`, `DEFAULT`, `HARD`) and one photo's draw
(`PhotoParams`, `sample_params`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

Size = tuple[int, int]  # (width, height), OpenCV's order
Range = tuple[float, float]

FRAME_SIZES: tuple[Size, ...] = (
    (640, 480), (1280, 720), (320, 240), (480, 640), (800, 600), (720, 1280), (1024, 768), (960, 540),
)
# Small frames dominate: they are what webcams and the Pi stream, and they render fastest.
FRAME_WEIGHTS: tuple[float, ...] = (0.30, 0.12, 0.18, 0.12, 0.10, 0.04, 0.06, 0.08)


@dataclass(frozen=True)
class PhotoRanges:
    """How much each photo may vary; every field is (low, high) or a probability.

    Lengths relative to the digit (blur, stroke) are fractions of the digit's height in pixels, so
    a setting means the same legibility at any frame size. Light values are reflectances (0..1).
    """

    frame_sizes: tuple[Size, ...] = FRAME_SIZES
    frame_weights: tuple[float, ...] = FRAME_WEIGHTS
    digit_height: Range = (0.15, 0.70)  # of the frame height; also at least `min_digit_px`
    min_digit_px: int = 28  # below this a user would move the paper closer
    aspect: Range = (0.85, 1.15)  # width stretch of the glyph
    rotation_deg: Range = (-12.0, 12.0)  # paper not square to the camera
    perspective: Range = (0.0, 0.06)  # corner jitter, fraction of digit size (camera tilt)
    margin: float = 0.02  # min gap between digit and frame edge, fraction of the frame's short side
    stroke_scale: Range = (0.75, 1.3)  # pen width relative to the glyph's own
    paper_brightness: Range = (0.75, 0.97)
    paper_tint: float = 0.025  # max per-channel deviation (cream, grey, bluish paper)
    paper_texture: Range = (0.0, 0.04)  # amplitude of blotchy fibre texture
    ink_darkness: Range = (0.6, 0.95)  # share of light the ink absorbs (pencil ~0.6, marker ~0.95)
    ink_unevenness: Range = (0.0, 0.25)  # ballpoint skips and pressure changes
    blue_ink_prob: float = 0.3
    exposure: Range = (0.6, 1.15)  # overall light; 1.0 puts white paper near 255 (some clip)
    gradient: Range = (0.0, 0.45)  # light falling off across the frame
    vignette: Range = (0.0, 0.35)  # corners darker than the centre
    shadow_prob: float = 0.25
    shadow_strength: Range = (0.15, 0.45)  # a phone's or hand's soft shadow
    color_temperature: float = 0.1  # max red-vs-blue gain shift (warm lamp +, cold daylight -)
    defocus: Range = (0.0, 0.02)  # Gaussian sigma, fraction of digit height
    motion_prob: float = 0.25
    motion: Range = (0.01, 0.05)  # motion blur length, fraction of digit height
    read_noise: Range = (1.0, 6.0)  # Gaussian sensor noise std, in 0-255 units
    shot_noise: Range = (0.0, 0.5)  # signal-dependent noise: variance = shot * value
    jpeg_prob: float = 0.9
    jpeg_quality: tuple[int, int] = (40, 95)
    grey_prob: float = 0.2  # single-channel output (grey cameras, scanned greys)
    lines_prob: float = 0.12  # ruled or squared paper
    line_contrast: Range = (0.04, 0.14)
    card_edge_prob: float = 0.1  # the paper ends and the desk shows beside the digit
    desk_brightness: Range = (0.1, 0.5)


DEFAULT = PhotoRanges()
EASY = replace(
    DEFAULT,
    digit_height=(0.3, 0.6), rotation_deg=(-5.0, 5.0), perspective=(0.0, 0.02), stroke_scale=(0.9, 1.2),
    ink_darkness=(0.8, 0.95), ink_unevenness=(0.0, 0.1), exposure=(0.8, 1.05), gradient=(0.0, 0.2),
    vignette=(0.0, 0.15), shadow_prob=0.0, defocus=(0.0, 0.008), motion_prob=0.0, read_noise=(1.0, 3.0),
    shot_noise=(0.0, 0.2), jpeg_quality=(75, 95), lines_prob=0.0, card_edge_prob=0.0,
)
HARD = replace(
    DEFAULT,
    digit_height=(0.12, 0.8), rotation_deg=(-20.0, 20.0), perspective=(0.0, 0.1), stroke_scale=(0.65, 1.6),
    ink_darkness=(0.45, 0.95), ink_unevenness=(0.0, 0.4), exposure=(0.4, 1.15), gradient=(0.0, 0.6),
    vignette=(0.0, 0.5), shadow_prob=0.4, shadow_strength=(0.2, 0.55), defocus=(0.0, 0.03), motion_prob=0.4,
    motion=(0.02, 0.08), read_noise=(2.0, 10.0), shot_noise=(0.0, 1.0), jpeg_quality=(30, 90),
    lines_prob=0.25, card_edge_prob=0.25,
)
PRESETS = {"easy": EASY, "default": DEFAULT, "hard": HARD}


@dataclass(frozen=True)
class PhotoParams:
    """One photo's concrete settings, drawn by `sample_params`; see `PhotoRanges` for meanings."""

    frame_size: Size
    digit_height: float  # fraction of the frame height
    min_digit_px: int
    aspect: float
    rotation_deg: float
    corner_jitter: tuple[float, ...]  # 8 values, fractions of the digit size
    centre: tuple[float, float]  # fractions of the free room for the digit, 0..1 each
    margin: float  # min gap to the frame edge, fraction of the short side
    stroke_scale: float
    paper_bgr: tuple[float, float, float]
    paper_texture: float
    ink_bgr: tuple[float, float, float]  # reflectance of fully absorbing ink
    ink_darkness: float
    ink_unevenness: float
    exposure: float
    gradient: float
    gradient_angle: float
    vignette: float
    shadow: float  # 0 = none
    shadow_angle: float
    shadow_offset: float  # where the shadow edge crosses, -0.5..0.5 of the frame diagonal
    cast_bgr: tuple[float, float, float]
    defocus: float  # sigma, fraction of digit height
    motion: float  # length, fraction of digit height; 0 = none
    motion_angle: float
    read_noise: float
    shot_noise: float
    jpeg_quality: int | None  # None = no JPEG compression
    grey: bool
    lines: str | None  # None, "ruled" or "grid"
    line_contrast: float
    line_spacing: float  # fraction of digit height
    card_edge: bool
    desk_bgr: tuple[float, float, float]

    @property
    def digit_px(self) -> float:
        """The digit's height in pixels (before it is shrunk to fit a narrow frame)."""
        return max(self.digit_height * self.frame_size[1], float(self.min_digit_px))


def sample_params(rng: np.random.Generator, ranges: PhotoRanges = DEFAULT) -> PhotoParams:
    """Draw one photo's settings from `ranges`."""
    r = ranges
    weights = np.asarray(r.frame_weights, dtype=np.float64)
    frame = r.frame_sizes[int(rng.choice(len(r.frame_sizes), p=weights / weights.sum()))]
    paper = uniform(rng, r.paper_brightness)
    blue = rng.random() < r.blue_ink_prob
    # Ink reflectance: blue ballpoint absorbs red and green more than blue; "black" is never perfect.
    ink = (0.55, 0.28, 0.18) if blue else tuple(float(v) for v in rng.uniform(0.02, 0.12, 3))
    lines = None
    if rng.random() < r.lines_prob:
        lines = "grid" if rng.random() < 0.4 else "ruled"
    return PhotoParams(
        frame_size=(int(frame[0]), int(frame[1])),
        digit_height=uniform(rng, r.digit_height),
        min_digit_px=r.min_digit_px,
        aspect=uniform(rng, r.aspect),
        rotation_deg=uniform(rng, r.rotation_deg),
        corner_jitter=tuple(float(v) for v in rng.uniform(-1, 1, 8) * uniform(rng, r.perspective)),
        centre=(float(rng.random()), float(rng.random())),
        margin=r.margin,
        stroke_scale=uniform(rng, r.stroke_scale),
        paper_bgr=tuple(float(np.clip(paper + v, 0, 1)) for v in rng.uniform(-r.paper_tint, r.paper_tint, 3)),
        paper_texture=uniform(rng, r.paper_texture),
        ink_bgr=ink,
        ink_darkness=uniform(rng, r.ink_darkness),
        ink_unevenness=uniform(rng, r.ink_unevenness),
        exposure=uniform(rng, r.exposure),
        gradient=uniform(rng, r.gradient),
        gradient_angle=float(rng.uniform(0, 2 * np.pi)),
        vignette=uniform(rng, r.vignette),
        shadow=uniform(rng, r.shadow_strength) if rng.random() < r.shadow_prob else 0.0,
        shadow_angle=float(rng.uniform(0, 2 * np.pi)),
        shadow_offset=float(rng.uniform(-0.4, 0.4)),
        cast_bgr=_cast(rng, r.color_temperature),
        defocus=uniform(rng, r.defocus),
        motion=uniform(rng, r.motion) if rng.random() < r.motion_prob else 0.0,
        motion_angle=float(rng.uniform(0, np.pi)),
        read_noise=uniform(rng, r.read_noise),
        shot_noise=uniform(rng, r.shot_noise),
        jpeg_quality=_jpeg_quality(rng, r),
        grey=bool(rng.random() < r.grey_prob),
        lines=lines,
        line_contrast=uniform(rng, r.line_contrast),
        line_spacing=float(rng.uniform(0.5, 1.2)),
        card_edge=bool(rng.random() < r.card_edge_prob),
        desk_bgr=tuple(float(v) for v in uniform(rng, r.desk_brightness) * rng.uniform(0.7, 1.2, 3)),
    )


def _cast(rng: np.random.Generator, temperature: float) -> tuple[float, float, float]:
    """Per-channel gains (B, G, R) of the light: warm/cold along blue-red, a trace of green."""
    t = float(rng.uniform(-temperature, temperature))
    return (1 - t, 1 + float(rng.uniform(-0.02, 0.02)), 1 + t)


def _jpeg_quality(rng: np.random.Generator, r: PhotoRanges) -> int | None:
    if rng.random() >= r.jpeg_prob:
        return None
    return int(rng.integers(r.jpeg_quality[0], r.jpeg_quality[1] + 1))


def uniform(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))
