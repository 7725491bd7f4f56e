"""The images a run trains and validates on: MNIST's split, plus the extra training images.

MNIST's own validation and test images are never touched by the extras: they join the training
slice only. The extras are handwriting fonts (the training fonts only, `font_digits`) and the
training writers of other people's handwriting (`other_writers`' "train" role only: held-out
and validation writers never). Provenance travels with every extra image, so a test can prove
no held-out writer reaches a batch and metrics.json says what a run learned from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_edge.common.errors import ConfigError
from cnn_edge.common.mnist import Mnist
from cnn_edge.trainer.config import TrainConfig

FONT = "font"
# Other writers' images use a seed of their own, so adding them leaves the font images unchanged.
_WRITERS_SEED_OFFSET = 7_919


@dataclass(frozen=True)
class TrainingSet:
    """Raw-pixel uint8 images (N, 28, 28) and labels; `extra` counts the non-MNIST training images."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    extra: dict[str, int]

    def describe(self) -> str:
        """"60000 images (of them 1600 font, 3823 optdigits)" for the log."""
        extras = ", ".join(f"{n} {source}" for source, n in self.extra.items())
        return f"{len(self.x_fit)} images" + (f" (of them {extras})" if extras else "")


def training_set(cfg: TrainConfig, mnist: Mnist) -> TrainingSet:
    """MNIST split as `cfg.validation` says, then the extra training images `cfg` asks for."""
    x_fit, y_fit, x_val, y_val = split_data(cfg, mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test)
    extra = extra_training_images(cfg)
    if len(extra):
        x_fit = np.concatenate([x_fit, extra.x])
        y_fit = np.concatenate([y_fit, extra.y.astype(y_fit.dtype)])
    return TrainingSet(x_fit, y_fit, x_val, y_val, extra.counts())


@dataclass(frozen=True, eq=False)
class ExtraImages:
    """Extra training images (N, 28, 28) uint8 with labels, source name and row in the source."""

    x: np.ndarray
    y: np.ndarray
    source: np.ndarray  # "font", "optdigits", "pendigits", "semeion"
    row: np.ndarray  # glyph number (fonts' training glyphs) or row in the set's .npz

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> dict[str, int]:
        """Images per source, for the log and metrics.json."""
        names, n = np.unique(self.source, return_counts=True)
        return {str(k): int(v) for k, v in zip(names, n, strict=True)}


def extra_training_images(cfg: TrainConfig) -> ExtraImages:
    """Fonts (`cfg.font_digits` copies), then other writers (`cfg.other_writers` x `other_writer_copies`)."""
    xs, ys, sources, rows = [], [], [], []
    if cfg.font_digits:
        from cnn_edge.trainer.font_digits import font_training_images

        x_font, y_font = font_training_images(cfg.font_digits, cfg.seed)
        xs.append(x_font)
        ys.append(y_font)
        sources.append(np.full(len(x_font), FONT))
        rows.append(np.full(len(x_font), -1))  # fonts are held out by font index in font_digits
    if cfg.other_writers and cfg.other_writer_copies:
        from cnn_edge.trainer.other_writers import TRAINABLE
        from cnn_edge.trainer.writer_images import training_images

        x_w, y_w, part, row = training_images(
            tuple(cfg.other_writers), cfg.other_writer_copies, cfg.seed + _WRITERS_SEED_OFFSET
        )
        xs.append(x_w)
        ys.append(y_w)
        sources.append(np.asarray(TRAINABLE, dtype="<U9")[part])
        rows.append(row)
    if not xs:
        return ExtraImages(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), np.zeros(0, "<U9"),
                           np.zeros(0, np.int64))
    return ExtraImages(
        np.concatenate(xs), np.concatenate(ys).astype(np.uint8),
        np.concatenate(sources).astype("<U9"), np.concatenate(rows).astype(np.int64),
    )


def split_data(
    cfg: TrainConfig, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
):
    """Return (x_fit, y_fit, x_val, y_val) as the config asks; the test set is never trained on."""
    if cfg.validation == "holdout":
        if cfg.validation_size >= len(x_train):
            raise ConfigError(
                f"--validation-size {cfg.validation_size} leaves no training images out of {len(x_train)}"
            )
        x_fit, y_fit = x_train[: -cfg.validation_size], y_train[: -cfg.validation_size]
        x_val, y_val = x_train[-cfg.validation_size :], y_train[-cfg.validation_size :]
    else:
        x_fit, y_fit, x_val, y_val = x_train, y_train, x_test, y_test
    if cfg.train_limit is not None:
        if cfg.train_limit > len(x_fit):
            raise ConfigError(
                f"--train-limit {cfg.train_limit} is larger than the {len(x_fit)} training images available",
                hint=f"pass at most {len(x_fit)}",
            )
        x_fit, y_fit = x_fit[: cfg.train_limit], y_fit[: cfg.train_limit]
    return x_fit, y_fit, x_val, y_val
