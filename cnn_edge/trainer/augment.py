"""Training-time augmentation: make clean MNIST look like what the edge runtime makes of a photo.

`cnn_edge.edge_runtime.preprocess` turns a camera photo into an MNIST-like 28x28 digit: its box
fitted into 20x20, its centre of mass centred, soft grey strokes, everything but the digit blanked.
What it cannot undo is what this module imitates, so the model learns it instead of failing on it:

* geometry: small rotations and slants (shear), a slightly different scale and aspect (the box fit
  of a thick or slanted digit), a pixel or two of shift (centre-of-mass centring is only that exact);
* the pen: strokes thicker or thinner than MNIST's (fractional dilate/erode with 3x3 max pooling);
* the camera: blur, noise along the strokes (the background is blanked by the runtime), contrast
  and gamma of the soft grey levels;
* clutter: now and then a bit of a card edge or a neighbouring stroke along the border.

Everything is pure TensorFlow on whole batches (one `ImageProjectiveTransformV3` call for the
geometry, pooling and a depthwise convolution for the rest), applied after `.batch()` in a
`tf.data` pipeline, never inside the model: the exported model is exactly the un-augmented one.
Randomness is stateless: a batch and a seed give the same images every time.

Import only from code that already needs TensorFlow (`AugmentConfig` and `PRESETS` are plain data,
but they live next to the ops they describe; `cnn_edge.trainer.config` only names the presets).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cnn_edge.common.errors import ConfigError

Range = tuple[float, float]


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random changes; each image draws its own values uniformly from them.

    Fields:
        rotate_deg: largest rotation either way, in degrees (a card or page held a bit askew).
        shear: largest horizontal slant either way (x += shear * y; handwriting leans).
        scale: range of the size factor about the digit's centre of mass (the runtime fits the
            digit's box, thick strokes and stray ink included, into 20x20, so sizes vary a bit).
        aspect: largest relative change of width against height (log-uniform, either way).
        translate_px: largest shift of the centre of mass either way, in pixels (the runtime's
            centring rounds to whole pixels and clamps lopsided digits at the edge).
        thickness: range of the stroke change: -1 = one full 3x3 erosion, +1 = one full 3x3
            dilation, fractions blend between; drawn for `thickness_prob` of the images.
        thickness_prob: share of images whose strokes change thickness.
        blur_prob: share of images blurred; their blur weight is uniform in [0, 1] towards a
            Gaussian of `blur_sigma` pixels.
        blur_sigma: standard deviation of the blur kernel, in pixels.
        noise_prob: share of images with sensor noise along the strokes.
        noise_std: largest noise standard deviation in grey levels (0-255).
        contrast: range of the gain on the grey levels (above 1 saturates strokes, as the runtime's
            stretch to the ink's 60th percentile does; below 1 leaves faint strokes).
        gamma: range of the gamma applied to the grey levels (soft or hard stroke edges).
        clutter_prob: share of images with a line near one border (a card edge, a ruled line).
        clutter_level: range of the clutter's grey level.
    """

    rotate_deg: float = 12.0
    shear: float = 0.3
    scale: Range = (0.85, 1.1)
    aspect: float = 0.15
    translate_px: float = 1.5
    thickness: Range = (-0.6, 1.0)
    thickness_prob: float = 0.6
    blur_prob: float = 0.4
    blur_sigma: float = 0.8
    noise_prob: float = 0.3
    noise_std: float = 20.0
    contrast: Range = (0.7, 1.5)
    gamma: Range = (0.7, 1.4)
    clutter_prob: float = 0.08
    clutter_level: Range = (80.0, 255.0)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples as lists), for metrics.json."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}


# "camera": the ranges above, set from what `preprocess` does and checked by eye against preprocessed
# renders of the tuning glyphs only (see benchmarks/results/augment.md).
# "light": half the geometry and the camera effects, for when MNIST accuracy matters most.
CAMERA = AugmentConfig()
LIGHT = AugmentConfig(
    rotate_deg=6.0,
    shear=0.15,
    scale=(0.92, 1.05),
    aspect=0.08,
    translate_px=1.0,
    thickness=(-0.3, 0.5),
    thickness_prob=0.4,
    blur_prob=0.2,
    noise_prob=0.15,
    noise_std=12.0,
    contrast=(0.85, 1.2),
    gamma=(0.85, 1.2),
    clutter_prob=0.03,
)
PRESETS: dict[str, AugmentConfig] = {"camera": CAMERA, "light": LIGHT}


def preset(name: str) -> AugmentConfig:
    """The named preset, or a ConfigError naming the choices."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown --augment-preset {name!r}", hint=f"choose one of: {', '.join(PRESETS)}"
        ) from None


def augment_batch(images: Any, seed: Any, cfg: AugmentConfig = CAMERA) -> Any:
    """Augment a batch of (B, 28, 28) pixels (0-255, white on black); returns float32, same range.

    `seed` is a shape-(2,) integer tensor: the same batch and seed give the same output (stateless
    random ops only). The output is rounded to whole grey levels, as the camera's uint8 input is.
    """
    import tensorflow as tf

    x = tf.cast(images, tf.float32)
    b = tf.shape(x)[0]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=8)

    def uniform(k: int, n: int, lo: float = 0.0, hi: float = 1.0) -> Any:
        return tf.random.stateless_uniform([b, n], seeds[k], minval=lo, maxval=hi)

    x = _geometry(x, uniform(0, 6), cfg)
    x4 = x[..., None]  # NHWC for pooling and convolution
    x4 = _thickness(x4, uniform(1, 2), cfg)
    x4 = _blur(x4, uniform(2, 2), cfg)
    x4 = _contrast(x4, uniform(3, 2), cfg)
    x4 = _noise(x4, uniform(4, 2), seeds[5], cfg)
    x4 = _clutter(x4, uniform(6, 8), cfg)
    return tf.round(tf.clip_by_value(x4[..., 0], 0.0, 255.0))


def _lerp(lo: float, hi: float, u: Any) -> Any:
    return lo + (hi - lo) * u


def _per_image(v: Any) -> Any:
    """(B,) -> (B, 1, 1, 1), to scale whole NHWC images."""
    return v[:, None, None, None]


def _geometry(x: Any, u: Any, cfg: AugmentConfig) -> Any:
    """Rotate, slant and scale each image about its centre of mass, then shift it a little."""
    import math

    import tensorflow as tf

    size = tf.shape(x)[1]
    grid = tf.cast(tf.range(size), tf.float32)
    mass = tf.maximum(tf.reduce_sum(x, axis=[1, 2]), 1e-3)
    cy = tf.reduce_sum(x * grid[None, :, None], axis=[1, 2]) / mass
    cx = tf.reduce_sum(x * grid[None, None, :], axis=[1, 2]) / mass

    theta = _lerp(-1, 1, u[:, 0]) * (cfg.rotate_deg * math.pi / 180)
    shear = _lerp(-1, 1, u[:, 1]) * cfg.shear
    scale = _lerp(*cfg.scale, u[:, 2])
    aspect = tf.exp(_lerp(-1, 1, u[:, 3]) * math.log1p(cfg.aspect))
    sx, sy = scale * tf.sqrt(aspect), scale / tf.sqrt(aspect)
    tx = _lerp(-1, 1, u[:, 4]) * cfg.translate_px
    ty = _lerp(-1, 1, u[:, 5]) * cfg.translate_px

    # Forward map A = rotation @ shear @ diag(sx, sy) about the centre of mass; the transform op
    # wants the inverse (output pixel -> input pixel): in = A^-1 (out - c - t) + c.
    cos, sin = tf.cos(theta), tf.sin(theta)
    a00, a01 = cos * sx, (cos * shear - sin) * sy
    a10, a11 = sin * sx, (sin * shear + cos) * sy
    det = a00 * a11 - a01 * a10
    p, q, r, s = a11 / det, -a01 / det, -a10 / det, a00 / det
    ox, oy = cx + tx, cy + ty
    zeros = tf.zeros_like(p)
    transforms = tf.stack([p, q, cx - p * ox - q * oy, r, s, cy - r * ox - s * oy, zeros, zeros], axis=1)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=x[..., None],
        transforms=transforms,
        output_shape=tf.shape(x)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return out[..., 0]


def _thickness(x: Any, u: Any, cfg: AugmentConfig) -> Any:
    """Blend each image towards its 3x3 dilation (thicker pen) or erosion (thinner pen)."""
    import tensorflow as tf

    dilated = tf.nn.max_pool2d(x, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    t = _lerp(*cfg.thickness, u[:, 0]) * tf.cast(u[:, 1] < cfg.thickness_prob, tf.float32)
    t = _per_image(t)
    return x + tf.nn.relu(t) * (dilated - x) + tf.nn.relu(-t) * (eroded - x)


def _gaussian_kernel(sigma: float) -> Any:
    import tensorflow as tf

    r = max(1, int(round(2.5 * sigma)))
    k = tf.exp(-(tf.cast(tf.range(-r, r + 1), tf.float32) ** 2) / (2.0 * sigma * sigma))
    k = k / tf.reduce_sum(k)
    return (k[:, None] * k[None, :])[:, :, None, None]


def _blur(x: Any, u: Any, cfg: AugmentConfig) -> Any:
    """Blend a share of the images towards a Gaussian blur (focus, motion, the runtime's resize)."""
    import tensorflow as tf

    if cfg.blur_prob <= 0 or cfg.blur_sigma <= 0:
        return x
    blurred = tf.nn.conv2d(x, _gaussian_kernel(cfg.blur_sigma), 1, "SAME")
    w = u[:, 0] * tf.cast(u[:, 1] < cfg.blur_prob, tf.float32)
    return x + _per_image(w) * (blurred - x)


def _contrast(x: Any, u: Any, cfg: AugmentConfig) -> Any:
    """Gain and gamma on the grey levels: faint, saturated, soft or hard strokes."""
    import tensorflow as tf

    gain = _per_image(_lerp(*cfg.contrast, u[:, 0]))
    gamma = _per_image(_lerp(*cfg.gamma, u[:, 1]))
    level = tf.clip_by_value(x / 255.0, 0.0, 1.0)
    return tf.clip_by_value(255.0 * gain * tf.pow(level, gamma), 0.0, 255.0)


def _noise(x: Any, u: Any, seed: Any, cfg: AugmentConfig) -> Any:
    """Sensor noise, only on and next to the strokes: the runtime blanks the rest of the image."""
    import tensorflow as tf

    if cfg.noise_prob <= 0 or cfg.noise_std <= 0:
        return x
    std = u[:, 0] * cfg.noise_std * tf.cast(u[:, 1] < cfg.noise_prob, tf.float32)
    near_ink = tf.cast(tf.nn.max_pool2d(x, 3, 1, "SAME") > 0, tf.float32)
    noise = tf.random.stateless_normal(tf.shape(x), seed)
    return tf.clip_by_value(x + _per_image(std) * noise * near_ink, 0.0, 255.0)


def _clutter(x: Any, u: Any, cfg: AugmentConfig) -> Any:
    """Now and then a line along one border: a card edge or ruled line the runtime let through."""
    import tensorflow as tf

    if cfg.clutter_prob <= 0:
        return x
    size = tf.shape(x)[1]
    n = tf.cast(size, tf.float32)
    g = tf.cast(tf.range(size), tf.float32)
    rows, cols = g[None, :, None], g[None, None, :]  # (1, H, 1), (1, 1, W)
    side = tf.cast(tf.minimum(u[:, 0] * 4.0, 3.0), tf.int32)  # top, bottom, left, right
    # (across, along): distance from the chosen edge and position along it, for every pixel.
    across = tf.stack([rows + 0 * cols, n - 1 - rows + 0 * cols, cols + 0 * rows, n - 1 - cols + 0 * rows])
    along = tf.stack([cols + 0 * rows, cols + 0 * rows, rows + 0 * cols, rows + 0 * cols])
    across = tf.gather(across[:, 0], side)  # (B, H, W)
    along = tf.gather(along[:, 0], side)
    offset = _per_image(u[:, 1] * 3.0)[..., 0]  # 0-3 px in from the edge
    slope = _per_image(_lerp(-0.08, 0.08, u[:, 2]))[..., 0]
    width = _per_image(_lerp(0.8, 2.0, u[:, 3]))[..., 0]
    start = _per_image(u[:, 4] * 0.5 * n)[..., 0]
    length = _per_image(_lerp(0.3, 1.0, u[:, 5]) * n)[..., 0]
    dist = tf.abs(across - offset - slope * (along - n / 2))
    line = tf.clip_by_value(width / 2 + 0.5 - dist, 0.0, 1.0)
    line *= tf.cast((along >= start) & (along <= start + length), tf.float32)
    level = _lerp(*cfg.clutter_level, u[:, 6])
    hit = tf.cast(u[:, 7] < cfg.clutter_prob, tf.float32)
    return tf.maximum(x, (line * _per_image(level * hit)[..., 0])[..., None])
