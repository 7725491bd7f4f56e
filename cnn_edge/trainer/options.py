"""Checks of a `TrainConfig` before anything heavy is imported: one clear line per unusable option."""

from __future__ import annotations

from cnn_edge.common import limits as lim
from cnn_edge.common.errors import ConfigError
from cnn_edge.trainer.config import ARCHES, AUGMENT_PRESETS, LR_SCHEDULES, VALIDATION_MODES, TrainConfig
from cnn_edge.trainer.distribute import check_distribute


def check_fit_options(epochs: int, batch_size: int, learning_rate: float, seed: int) -> None:
    """The options every Keras fit here takes (train, finetune): one clear line when unusable."""
    if epochs < 1:
        raise ConfigError(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
    if not learning_rate > 0:
        raise ConfigError(f"--learning-rate must be positive, got {learning_rate}")
    lim.check_int("--epochs", epochs, 1, lim.MAX_EPOCHS)
    lim.check_int("--batch-size", batch_size, 1, lim.MAX_BATCH)
    lim.check_float("--learning-rate", learning_rate, 0.0, 10.0, low_open=True)
    lim.check_seed(seed)


def _check_choice(option: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {option} {value!r}", hint=f"choose one of: {', '.join(choices)}")


def validate_config(cfg: TrainConfig) -> None:
    """Reject options that cannot work, before anything heavy is imported."""
    assert cfg.epochs is not None and cfg.font_digits is not None  # resolved by TrainConfig itself
    check_fit_options(cfg.epochs, cfg.batch_size, cfg.learning_rate, cfg.seed)
    lim.check_int("--hidden-units", cfg.hidden_units, 1, lim.MAX_HIDDEN_UNITS)
    lim.check_int("--font-digits", cfg.font_digits, 0, lim.MAX_FONT_DIGITS)
    _check_choice("--arch", cfg.arch, ARCHES)
    _check_choice("--lr-schedule", cfg.lr_schedule, LR_SCHEDULES)
    _check_choice("--validation", cfg.validation, VALIDATION_MODES)
    if cfg.augment is not None:
        _check_choice("--augment-preset", cfg.augment, AUGMENT_PRESETS)
    if not 0 <= cfg.dropout < 1:
        raise ConfigError(f"dropout must be in [0, 1), got {cfg.dropout}")
    if cfg.train_limit is not None and cfg.train_limit < 1:
        raise ConfigError(f"--train-limit must be at least 1, got {cfg.train_limit}")
    if cfg.validation == "holdout" and cfg.validation_size < 1:
        raise ConfigError(f"--validation-size must be at least 1, got {cfg.validation_size}")
    _check_other_writers(cfg)
    check_distribute(cfg)


def _check_other_writers(cfg: TrainConfig) -> None:
    from cnn_edge.trainer.other_writers import TRAINABLE

    unknown = [name for name in cfg.other_writers or () if name not in TRAINABLE]
    if unknown:
        raise ConfigError(
            f"unknown --other-writers set {', '.join(map(repr, unknown))}",
            hint=f"choose from: {', '.join(TRAINABLE)} (mfeat is test-only)",
        )
    lim.check_int("--other-writer-copies", cfg.other_writer_copies, 0, lim.MAX_FONT_DIGITS)
