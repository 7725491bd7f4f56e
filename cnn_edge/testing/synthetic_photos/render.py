"""Rendering: one glyph on paper under a camera (`render_photo`), or a photo without a digit
(`render_blank`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from cnn_edge.testing.synthetic_photos.glyphs import crop_to_ink
from cnn_edge.testing.synthetic_photos.params import (
    DEFAULT,
    PhotoParams,
    PhotoRanges,
    sample_params,
)

INK_TRACE = 1e-3  # the least ink coverage `apply_ink` works on (the box of its uneven-ink noise)


@dataclass(frozen=True, eq=False)
class Photo:
    """A rendered photo before JPEG compression, with what was drawn where.

    `image` is (H, W, 3) BGR uint8, or (H, W) when `params.grey`. `bbox` is the digit's ink box
    (x0, y0, x1, y1) in pixels, None for a blank.
    """

    image: np.ndarray
    params: PhotoParams
    bbox: tuple[int, int, int, int] | None


def render_photo(glyph: np.ndarray, rng: np.random.Generator, ranges: PhotoRanges = DEFAULT,
                 **overrides: object) -> np.ndarray:
    """A photo of `glyph` (ink mask, white on black) written on paper, as a camera delivers it.

    Settings are drawn from `ranges`; keyword `overrides` fix any `PhotoParams` field (e.g.
    `frame_size=(640, 480)`, `grey=False`, `jpeg_quality=None`). Returns BGR uint8 (H, W, 3), or
    (H, W) grey when the drawn `grey` is true, JPEG-compressed at the drawn quality.
    """
    photo = render_photo_info(glyph, rng, ranges, **overrides)
    return jpeg_roundtrip(photo.image, photo.params.jpeg_quality)


def render_photo_info(glyph: np.ndarray, rng: np.random.Generator, ranges: PhotoRanges = DEFAULT,
                      **overrides: object) -> Photo:
    """Like `render_photo`, but uncompressed and with the settings and the digit's box."""
    params = replace(sample_params(rng, ranges), **overrides)
    alpha = place_ink(glyph, params)
    box = ink_box(alpha)
    return Photo(photograph(alpha, params, rng, avoid=box), params, box)


def photograph(alpha: np.ndarray, params: PhotoParams, rng: np.random.Generator,
               avoid: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Ink coverage `alpha` (from `place_ink`) on paper under the camera `params` describe, uncompressed.

    `avoid`: the box a desk edge must leave clear (default: the ink's box).
    """
    reflect = draw_paper(params, rng, avoid=ink_box(alpha) if avoid is None else avoid)
    reflect = apply_ink(reflect, alpha, params, rng)
    return _camera(reflect, params, rng)


def render_blank(rng: np.random.Generator, kind: str | None = None, ranges: PhotoRanges = DEFAULT,
                 **overrides: object) -> np.ndarray:
    """A photo with no digit: kind "paper", "lined" (a faint ruled line or grid), "noise" or "dark".

    `kind=None` picks one (paper 40%, lined 30%, noise 15%, dark 15%). Paper kinds get the same
    light, blur, noise and JPEG as `render_photo`, but never a card edge (the desk would be a
    large dark shape that no runtime could tell from a fat stroke). Same return type as there.
    """
    return jpeg_roundtrip(*blank_photo(rng, kind, ranges, **overrides))


BLANK_KINDS = ("paper", "lined", "noise", "dark")


def blank_photo(rng: np.random.Generator, kind: str | None, ranges: PhotoRanges,
                  **overrides: object) -> tuple[np.ndarray, int | None]:
    if kind is None:
        kind = BLANK_KINDS[int(rng.choice(4, p=[0.4, 0.3, 0.15, 0.15]))]
    if kind not in BLANK_KINDS:
        raise ValueError(f"unknown blank kind {kind!r}; expected one of {', '.join(BLANK_KINDS)}")
    params = replace(sample_params(rng, ranges), card_edge=False, **overrides)
    if kind in ("paper", "lined"):
        params = replace(params, lines=(params.lines or "ruled") if kind == "lined" else None)
        reflect = draw_paper(params, rng, avoid=None)
        return _camera(reflect, params, rng), params.jpeg_quality
    w, h = params.frame_size
    # A lens cap or a dark room (dark), or a high-gain sensor seeing nothing in particular (noise).
    if kind == "dark":
        level, sigma = rng.uniform(2, 35), rng.uniform(1, 4)
    else:
        level, sigma = rng.uniform(60, 170), rng.uniform(8, 25)
    img = level + sigma * rng.standard_normal((h, w, 3), dtype=np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if params.grey:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return img, params.jpeg_quality


def jpeg_roundtrip(image: np.ndarray, quality: int | None) -> np.ndarray:
    """Encode and decode as JPEG at `quality` (None: return `image` unchanged)."""
    if quality is None:
        return image
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    flag = cv2.IMREAD_GRAYSCALE if image.ndim == 2 else cv2.IMREAD_COLOR
    return cv2.imdecode(buf, flag)


def glyph_ink(glyph: np.ndarray) -> np.ndarray:
    """A glyph mask (white ink on black, any brightness) cut to its ink: what `place_ink` sizes."""
    return crop_to_ink(np.asarray(glyph, dtype=np.uint8), level=int(np.max(glyph)) // 4 + 1, pad=0)


def place_ink(glyph: np.ndarray, p: PhotoParams) -> np.ndarray:
    """Ink coverage (0..1 float32, frame-sized) of the glyph at its size, angle and place."""
    w, h = p.frame_size
    mask = glyph_ink(glyph)
    digit_h = p.digit_px
    digit_w = digit_h * mask.shape[1] / mask.shape[0] * p.aspect
    # Corners of the digit box around its centre, tilted, then jittered for perspective.
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * [digit_w / 2, digit_h / 2]
    corners = corners + np.reshape(p.corner_jitter, (4, 2)) * [digit_w, digit_h]
    a = math.radians(p.rotation_deg)
    corners = corners @ np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    # Shrink if the tilted box would not fit (tall digits in portrait frames), then place it.
    margin = p.margin * min(w, h)
    span = corners.max(axis=0) - corners.min(axis=0)
    fit = min(1.0, (w - 2 * margin) / span[0], (h - 2 * margin) / span[1])
    corners, span = corners * fit, span * fit
    room = np.array([w, h]) - 2 * margin - span
    offset = margin - corners.min(axis=0) + room * np.array(p.centre)
    dst = (corners + offset).astype(np.float32)
    stroke = _stroke_mask(mask, (digit_w * fit, digit_h * fit), p.stroke_scale)
    sh, sw = stroke.shape
    src = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
    homography = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(stroke, homography, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)


def _stroke_mask(mask: np.ndarray, size: tuple[float, float], stroke_scale: float) -> np.ndarray:
    """Rescale a soft ink mask to `size` (w, h) as crisp ink with its pen width scaled.

    Thresholding the smoothly rescaled mask gives sharp outlines at any magnification; a signed
    distance to that outline moves it in or out to thicken or thin the pen, and leaves a one-pixel
    anti-aliased edge. Small digits are worked at twice the size and averaged down.
    """
    super_ = 2 if size[1] < 160 else 1
    tw, th = max(int(round(size[0] * super_)), 2), max(int(round(size[1] * super_)), 2)
    interp = cv2.INTER_AREA if th < mask.shape[0] else cv2.INTER_CUBIC
    big = cv2.resize(mask, (tw, th), interpolation=interp)
    pad = max(int(0.1 * th), 2)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    inside = (big >= 128).astype(np.uint8)
    signed = cv2.distanceTransform(inside, cv2.DIST_L2, 5) - cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    # A typical pen stroke is ~12% of the digit height; scale its half-width.
    offset = (stroke_scale - 1.0) * 0.06 * th
    ink = np.clip(signed + offset + 0.5, 0.0, 1.0).astype(np.float32)
    if super_ > 1:
        ink = cv2.resize(ink, (ink.shape[1] // super_, ink.shape[0] // super_), interpolation=cv2.INTER_AREA)
    return ink[pad // super_: ink.shape[0] - pad // super_, pad // super_: ink.shape[1] - pad // super_]


def ink_box(alpha: np.ndarray, level: float = 0.25) -> tuple[int, int, int, int] | None:
    """The box (x0, y0, x1, y1) of the pixels at least `level` inked; None when there are none."""
    ys, xs = np.nonzero(alpha >= level)
    if len(ys) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def draw_paper(p: PhotoParams, rng: np.random.Generator,
               avoid: tuple[int, int, int, int] | None) -> np.ndarray:
    """Paper reflectance (H, W, 3 float32): tint, fibre texture, optional lines and desk edge."""
    w, h = p.frame_size
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = p.paper_bgr
    if p.paper_texture > 0:
        paper *= (1 + p.paper_texture * smooth_noise(rng, (h, w), cell=max(min(w, h) // 60, 2)))[..., None]
    if p.lines:
        paper = _draw_lines(paper, p, rng)
    if p.card_edge and avoid is not None:
        paper = _draw_card_edge(paper, p, rng, avoid)
    return paper


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Noise in -1..1 (roughly) with blobs of about `cell` pixels: made small, scaled up smoothly."""
    h, w = shape
    small = rng.standard_normal((h // cell + 2, w // cell + 2), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(-2.5, 2.5) / 2.5


def _draw_lines(paper: np.ndarray, p: PhotoParams, rng: np.random.Generator) -> np.ndarray:
    """Faint ruled lines (or a grid) along the paper's tilt, in grey-blue like an exercise book."""
    h, w = paper.shape[:2]
    spacing = max(p.line_spacing * p.digit_px, 8.0)
    thickness = max(1, int(round(min(w, h) / 400)))
    lines = np.zeros((h, w), np.float32)
    diag = int(math.hypot(w, h))
    a = math.radians(p.rotation_deg)
    along, across = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    start = float(rng.uniform(0, spacing))
    directions = [(along, across), (across, along)] if p.lines == "grid" else [(along, across)]
    for line_dir, step_dir in directions:
        for k in np.arange(-diag / 2 + start, diag / 2, spacing):
            centre = np.array([w / 2, h / 2]) + step_dir * k
            p0, p1 = centre - line_dir * diag, centre + line_dir * diag
            cv2.line(lines, fixed_point(p0), fixed_point(p1), 1.0, thickness, cv2.LINE_AA, shift=4)
    colour = np.array([0.85, 0.75, 0.65], np.float32) if rng.random() < 0.6 else np.full(3, 0.7, np.float32)
    # Multiply: a line darkens the paper by `line_contrast` at most, tinted.
    return paper * (1 - p.line_contrast * lines[..., None] * (1.6 - colour))


def fixed_point(xy: np.ndarray) -> tuple[int, int]:
    """A point in OpenCV's 4-bit fixed point (`shift=4`), for sub-pixel anti-aliased lines."""
    return int(round(xy[0] * 16)), int(round(xy[1] * 16))


def _draw_card_edge(paper: np.ndarray, p: PhotoParams, rng: np.random.Generator,
                    avoid: tuple[int, int, int, int]) -> np.ndarray:
    """Where the paper ends: the desk beyond a straight edge on a side with room beside the digit."""
    h, w = paper.shape[:2]
    x0, y0, x1, y1 = avoid
    gap = 0.15 * p.digit_px
    rooms = {"left": x0 - gap, "right": w - x1 - gap, "top": y0 - gap, "bottom": h - y1 - gap}
    side, room = max(rooms.items(), key=lambda kv: kv[1])
    if room < 0.05 * min(w, h):
        return paper
    depth = float(rng.uniform(0.2, 0.7)) * room  # how much desk shows, measured from the frame edge
    tilt = math.tan(math.radians(float(rng.uniform(-8, 8))))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    if side in ("left", "right"):
        edge = depth + tilt * (ys - h / 2)
        dist = edge - (xs if side == "left" else (w - 1 - xs))
    else:
        edge = depth + tilt * (xs - w / 2)
        dist = edge - (ys if side == "top" else (h - 1 - ys))
    desk = np.clip(dist + 0.5, 0, 1)[..., None]  # 1 on the desk, anti-aliased edge
    texture = 1 + 0.15 * smooth_noise(rng, (h, w), cell=max(min(w, h) // 30, 2))
    desk_colour = np.array(p.desk_bgr, np.float32) * texture[..., None]
    return paper * (1 - desk) + desk_colour * desk


def apply_ink(paper: np.ndarray, alpha: np.ndarray, p: PhotoParams, rng: np.random.Generator) -> np.ndarray:
    """Ink absorbs a share of the light the paper would reflect, a little unevenly along strokes.

    Works in place on the digit's box only: elsewhere there is no ink, and frames are large.
    """
    box = ink_box(alpha, level=INK_TRACE)
    if box is None:
        return paper
    x0, y0, x1, y1 = box
    strength = alpha[y0:y1, x0:x1] * p.ink_darkness
    if p.ink_unevenness > 0:
        cell = max(int(p.digit_px / 8), 2)
        strength *= 1 - p.ink_unevenness * (0.5 + 0.5 * smooth_noise(rng, (y1 - y0, x1 - x0), cell))
    absorb = 1 - np.array(p.ink_bgr, np.float32)
    paper[y0:y1, x0:x1] *= 1 - strength[..., None] * absorb
    return paper


def _camera(reflect: np.ndarray, p: PhotoParams, rng: np.random.Generator) -> np.ndarray:
    """Light, optics and sensor: reflectance (H, W, 3) -> uint8 BGR (or grey) image.

    Works in place on `reflect` (float32 arrays of a 1280x720 frame are 11 MB each).
    """
    h, w = reflect.shape[:2]
    img = reflect
    img *= illumination(p, (h, w))[..., None]
    img *= np.array(p.cast_bgr, np.float32) * 255.0
    img = _blur(img, p)
    img = _sensor_noise(img, p, rng)
    np.clip(img, 0, 255, out=img)
    img = img.astype(np.uint8)  # truncation after +0.5 rounding inside _sensor_noise
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if p.grey else img


def illumination(p: PhotoParams, shape: tuple[int, int]) -> np.ndarray:
    """Light falling on each pixel: exposure x gradient x vignette x shadow (float32, H x W)."""
    h, w = shape
    # Coordinates in units of the frame's half-diagonal, centred, computed on a coarse grid and
    # resized: the light field is smooth, and this keeps a 1280x720 frame cheap.
    gh, gw = max(h // 8, 2), max(w // 8, 2)
    half_diag = math.hypot(w, h) / 2
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    ys = (ys * (h / gh) - h / 2) / half_diag
    xs = (xs * (w / gw) - w / 2) / half_diag
    ramp = xs * math.cos(p.gradient_angle) + ys * math.sin(p.gradient_angle)  # -1..1
    light = p.exposure * (1 - p.gradient * (ramp + 1) / 2) * (1 - p.vignette * (xs**2 + ys**2))
    if p.shadow > 0:
        d = xs * math.cos(p.shadow_angle) + ys * math.sin(p.shadow_angle) - p.shadow_offset
        light *= 1 - p.shadow / (1 + np.exp(-d / 0.06))  # soft-edged half-plane
    return cv2.resize(light.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _blur(img: np.ndarray, p: PhotoParams) -> np.ndarray:
    """Defocus (Gaussian) plus optional motion blur (a line kernel), sized to the digit."""
    sigma = 0.4 + p.defocus * p.digit_px  # 0.4 px: no lens is perfectly sharp
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    length = p.motion * p.digit_px
    if length >= 1.5:
        k = int(math.ceil(length)) | 1
        kernel = np.zeros((k, k), np.float32)
        c = k // 2
        dx, dy = math.cos(p.motion_angle) * length / 2, math.sin(p.motion_angle) * length / 2
        ends = fixed_point(np.array([c - dx, c - dy])), fixed_point(np.array([c + dx, c + dy]))
        cv2.line(kernel, *ends, 1.0, 1, cv2.LINE_AA, shift=4)
        img = cv2.filter2D(img, -1, kernel / kernel.sum())
    return img


def _sensor_noise(img: np.ndarray, p: PhotoParams, rng: np.random.Generator) -> np.ndarray:
    """Read noise plus shot noise (variance grows with the signal), in place. Colour noise is
    coarser, as a camera's demosaicing and denoising leave it."""
    h, w = img.shape[:2]
    std = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    np.maximum(std, 0, out=std)
    std *= p.shot_noise
    std += p.read_noise**2
    np.sqrt(std, out=std)
    luma = rng.standard_normal((h, w), dtype=np.float32)
    luma *= std
    luma += 0.5  # so that the truncating cast to uint8 rounds
    chroma = rng.standard_normal(((h + 1) // 2, (w + 1) // 2, 3), dtype=np.float32)
    chroma = cv2.resize(chroma, (w, h), interpolation=cv2.INTER_LINEAR)
    chroma *= 0.5 * std[..., None]
    img += luma[..., None]
    img += chroma
    return img
