"""The images a run trains and validates on: MNIST's split, plus the extra training images.

MNIST's own validation and test images are never touched by the extras: they join the training
slice only (handwriting fonts: the training fonts only, `font_digits`). Each extra image keeps
where it came from, so metrics.json can say what a run learned from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnn_edge.common.errors import ConfigError
from cnn_edge.common.mnist import Mnist
from cnn_edge.trainer.config import TrainConfig

FONT = "font"


@dataclass(frozen=True)
class TrainingSet:
    """Raw-pixel uint8 images (N, 28, 28) and labels; `extra` counts the non-MNIST training images."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    extra: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """"60000 images (of them 1600 font), validating on 10000" for the log."""
        extras = ", ".join(f"{n} {source}" for source, n in self.extra.items())
        return f"{len(self.x_fit)} images" + (f" (of them {extras})" if extras else "")


def training_set(cfg: TrainConfig, mnist: Mnist) -> TrainingSet:
    """MNIST split as `cfg.validation` says, then the extra training images `cfg` asks for."""
    x_fit, y_fit, x_val, y_val = split_data(cfg, mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test)
    extra: dict[str, int] = {}
    if cfg.font_digits:
        from cnn_edge.trainer.font_digits import font_training_images

        x_font, y_font = font_training_images(cfg.font_digits, cfg.seed)
        x_fit = np.concatenate([x_fit, x_font])
        y_fit = np.concatenate([y_fit, y_font.astype(y_fit.dtype)])
        extra[FONT] = len(x_font)
    return TrainingSet(x_fit, y_fit, x_val, y_val, extra)


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
