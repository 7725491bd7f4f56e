"""`train()`: fit the seed's model on MNIST, keeping a checkpoint after every epoch."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common import atomic
from cnn_edge.common import limits as lim
from cnn_edge.common import run_dir as rd
from cnn_edge.common.errors import ConfigError, Interrupted, RunDirError
from cnn_edge.common.mnist import load_mnist
from cnn_edge.trainer.config import (
    ARCHES,
    AUGMENT_PRESETS,
    LR_SCHEDULES,
    VALIDATION_MODES,
    TrainConfig,
    TrainResult,
)

Log = Callable[[str], None]


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


def validate_config(cfg: TrainConfig) -> None:
    """Reject options that cannot work, before anything heavy is imported."""
    check_fit_options(cfg.epochs, cfg.batch_size, cfg.learning_rate, cfg.seed)
    lim.check_int("--hidden-units", cfg.hidden_units, 1, lim.MAX_HIDDEN_UNITS)
    lim.check_int("--font-digits", cfg.font_digits, 0, lim.MAX_FONT_DIGITS)
    if cfg.arch not in ARCHES:
        raise ConfigError(f"unknown --arch {cfg.arch!r}", hint=f"choose one of: {', '.join(ARCHES)}")
    if cfg.lr_schedule not in LR_SCHEDULES:
        raise ConfigError(
            f"unknown --lr-schedule {cfg.lr_schedule!r}", hint=f"choose one of: {', '.join(LR_SCHEDULES)}"
        )
    if cfg.hidden_units < 1:
        raise ConfigError(f"--hidden-units must be at least 1, got {cfg.hidden_units}")
    if not 0 <= cfg.dropout < 1:
        raise ConfigError(f"dropout must be in [0, 1), got {cfg.dropout}")
    if cfg.validation not in VALIDATION_MODES:
        raise ConfigError(
            f"unknown --validation {cfg.validation!r}", hint=f"choose one of: {', '.join(VALIDATION_MODES)}"
        )
    if cfg.train_limit is not None and cfg.train_limit < 1:
        raise ConfigError(f"--train-limit must be at least 1, got {cfg.train_limit}")
    if cfg.validation == "holdout" and cfg.validation_size < 1:
        raise ConfigError(f"--validation-size must be at least 1, got {cfg.validation_size}")
    if cfg.font_digits < 0:
        raise ConfigError(f"--font-digits must be 0 or more, got {cfg.font_digits}")
    if cfg.augment is not None and cfg.augment not in AUGMENT_PRESETS:
        raise ConfigError(
            f"unknown --augment-preset {cfg.augment!r}", hint=f"choose one of: {', '.join(AUGMENT_PRESETS)}"
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


class _Terminated(BaseException):
    """Raised in the main thread on SIGTERM so training unwinds like Ctrl-C."""


@contextlib.contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _checkpoint_callback(run: Path, cfg: TrainConfig, history: dict[str, list[float]]) -> Any:
    import keras

    class EpochCheckpoint(keras.callbacks.Callback):
        """After each epoch: the model (with optimizer state) and the history so far, atomically."""

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            for key, value in (logs or {}).items():
                history.setdefault(key, []).append(float(value))
            with atomic.atomic_path(run / rd.CHECKPOINT) as tmp:
                self.model.save(tmp)
            state = {"epoch": epoch + 1, "history": history, "config": _config_dict(cfg)}
            atomic.write_json(run / rd.CHECKPOINT_STATE, state)

    return EpochCheckpoint()


def augmented_dataset(x: np.ndarray, y: np.ndarray, cfg: TrainConfig, first_epoch: int = 0) -> Any:
    """A seeded tf.data pipeline of shuffled, augmented batches (one pass = one epoch).

    Shuffling gathers whole batches by index and augmentation runs on the batch, so every op
    works on (batch, 28, 28) at once; `prefetch` overlaps it with the training step. Each batch
    gets its own stateless seed from a seeded random stream, re-drawn every epoch, so the same
    seed gives the same images. A resumed run starts both streams from `first_epoch`, so it
    does not replay epoch 1's images (it is reproducible, though not identical to an
    uninterrupted run, like the un-augmented path's shuffling).
    """
    import tensorflow as tf

    from cnn_edge.trainer.augment import augment_batch, preset

    params = preset(cfg.augment or "camera")
    stream_seed = cfg.seed * 1_000_003 + first_epoch  # distinct per (seed, resume point)
    images, labels = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=stream_seed, reshuffle_each_iteration=True)
    batches = order.batch(cfg.batch_size)
    seeds = tf.data.Dataset.random(seed=stream_seed, rerandomize_each_iteration=True).batch(2)

    def load(index: Any, seed: Any) -> tuple[Any, Any]:
        return augment_batch(tf.gather(images, index), seed, params), tf.gather(labels, index)

    return (
        tf.data.Dataset.zip(batches, seeds)
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def _augment_dict(name: str | None) -> dict[str, Any] | None:
    """The preset's name and every range it used, for metrics.json (None: no augmentation)."""
    if name is None:
        return None
    from cnn_edge.trainer.augment import preset

    return {"preset": name, **preset(name).as_dict()}


def _config_dict(cfg: TrainConfig) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(cfg).items()}


def _config_from_checkpoint(cfg: TrainConfig, run: Path) -> tuple[TrainConfig, int, dict[str, list[float]]]:
    """On --resume: the saved run's own settings, with this call's epochs and verbosity."""
    try:
        state = json.loads((run / rd.CHECKPOINT_STATE).read_text())
        saved = state["config"]
        fields = {f.name for f in dataclasses.fields(TrainConfig)}
        kept = {k: v for k, v in saved.items() if k in fields}
        kept.update(
            out=run,
            data=cfg.data or (Path(saved["data"]) if saved.get("data") else None),
            epochs=cfg.epochs,
            verbose=cfg.verbose,
            resume=True,
            force=False,
        )
        return TrainConfig(**kept), int(state["epoch"]), {k: list(v) for k, v in state["history"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunDirError(
            f"cannot resume {run}: {rd.CHECKPOINT_STATE} is unreadable ({exc})", hint="start a new run"
        ) from exc


def train(cfg: TrainConfig, log: Log = lambda _msg: None) -> TrainResult:
    """Train as `cfg` says, write the run's artifacts, and return what was measured.

    `log` receives human-readable progress lines (the model summary, where files went); Keras'
    own progress bar follows `cfg.verbose`. Ctrl-C or SIGTERM raises `Interrupted` after the
    last complete epoch's checkpoint is safe on disk. A run replaced with `force` is built
    beside the old one and switched in only when complete; until then the old run is intact.
    """
    validate_config(cfg)
    initial_epoch, history = 0, {}
    if cfg.resume:
        run = rd.resume_run(cfg.out)
        cfg, initial_epoch, history = _config_from_checkpoint(cfg, run)
        if initial_epoch >= cfg.epochs:
            raise ConfigError(
                f"{run} already has {initial_epoch} epochs; nothing to resume for --epochs {cfg.epochs}",
                hint=f"pass --epochs larger than {initial_epoch} to train further",
            )
    mnist = load_mnist(cfg.data)
    x_fit, y_fit, x_val, y_val = split_data(cfg, mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test)
    n_fonts = 0
    if cfg.font_digits:
        # After the split: validation and test stay MNIST's own images.
        from cnn_edge.trainer.font_digits import font_training_images

        x_font, y_font = font_training_images(cfg.font_digits, cfg.seed)
        x_fit = np.concatenate([x_fit, x_font])
        y_fit = np.concatenate([y_fit, y_font.astype(y_fit.dtype)])
        n_fonts = len(x_font)
    if cfg.resume:
        target = rd.RunTarget(path=run, work=run)
    else:
        # Only now: bad data or options must not leave an empty run directory behind.
        target = rd.create_run(cfg.out, force=cfg.force, inputs=(mnist.source, cfg.data), kind="train")
    try:
        result = _train_into(cfg, target, (x_fit, y_fit, x_val, y_val), mnist, n_fonts,
                             initial_epoch, history, log)
    except BaseException:
        target.discard()  # a replacement that did not finish: the old run stays as it was
        raise
    target.commit()
    return result


def _train_into(cfg: TrainConfig, target: rd.RunTarget, split: tuple[np.ndarray, ...], mnist: Any,
                n_fonts: int, initial_epoch: int, history: dict[str, list[float]], log: Log) -> TrainResult:
    """Fit and write every artifact into `target.work`; the result names them at `target.path`."""
    x_fit, y_fit, x_val, y_val = split
    run = target.work
    from cnn_edge.common.quiet import native_stderr_silenced

    with native_stderr_silenced():  # TensorFlow's start-up chatter goes straight to fd 2
        import keras
        import tensorflow as tf

    from cnn_edge.trainer.curves import plot_training_curves
    from cnn_edge.trainer.models import build_model, compile_model, summary_text

    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    if cfg.resume:
        model = keras.models.load_model(run / rd.CHECKPOINT)
        log(f"Resuming {run} after epoch {initial_epoch} of {cfg.epochs}")
    else:
        model = build_model(cfg.arch, cfg.hidden_units, cfg.dropout)
        steps_per_epoch = -(-len(x_fit) // cfg.batch_size)
        compile_model(model, cfg.learning_rate, cfg.lr_schedule, total_steps=steps_per_epoch * cfg.epochs)
    log(summary_text(model))
    fonts_note = f" ({n_fonts} of them handwriting-font digits)" if n_fonts else ""
    replacing = " (replaced when this run is complete)" if target.staged else ""
    log(
        f"Training on {len(x_fit)} images{fonts_note}, validating on {len(x_val)} ({cfg.validation}); "
        f"run directory {target.path}{replacing}"
    )

    # Raw pixels as float32: the model rescales to [0, 1] itself.
    x_val_f = x_val.astype("float32")
    if cfg.augment is not None:
        log(f"Augmenting the training images on the fly: preset {cfg.augment!r}")
        # Batched and shuffled by the pipeline itself; Keras only iterates it.
        fit_data: dict[str, Any] = {
            "x": augmented_dataset(x_fit, y_fit, cfg, initial_epoch),
            "shuffle": False,
        }
    else:
        fit_data = {"x": x_fit.astype("float32"), "y": y_fit, "batch_size": cfg.batch_size, "shuffle": True}
    start = time.perf_counter()
    try:
        with _sigterm_as_exception():
            model.fit(
                **fit_data,
                epochs=cfg.epochs,
                initial_epoch=initial_epoch,
                validation_data=(x_val_f, y_val),
                callbacks=[_checkpoint_callback(run, cfg, history)],
                verbose=cfg.verbose,
            )
    except (KeyboardInterrupt, _Terminated) as exc:
        code = 130 if isinstance(exc, KeyboardInterrupt) else 143
        if target.staged:
            raise Interrupted(f"training interrupted; {target.path} is left as it was (the unfinished "
                              "replacement was discarded)", exit_code=code) from None
        done = len(history.get("loss", []))
        saved = (
            f"checkpoint of epoch {done} kept in {run / rd.CHECKPOINT}" if done else "no epoch had finished"
        )
        raise Interrupted(
            f"training interrupted ({saved})",
            exit_code=code,
            hint=f"continue with `cnn-edge train --out {run} --resume`" if done else None,
        ) from None
    train_seconds = time.perf_counter() - start

    test_loss, test_accuracy = model.evaluate(mnist.x_test.astype("float32"), mnist.y_test, verbose=0)
    artifacts = {
        "model": run / rd.MODEL,
        "history": run / rd.HISTORY,
        "curves": run / rd.CURVES,
        "metrics": run / rd.METRICS,
    }
    with atomic.atomic_path(artifacts["model"]) as tmp:
        model.save(tmp)
    atomic.write_json(artifacts["history"], history)
    plot_training_curves(
        history, artifacts["curves"], title=f"{model.name}: {model.count_params():,} parameters"
    )
    metrics = {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "params": int(model.count_params()),
        "epochs": len(history.get("loss", [])),
        "train_seconds": round(train_seconds, 2),
        "seconds_per_epoch": round(train_seconds / max(1, cfg.epochs - initial_epoch), 2),
        "train_images": len(x_fit),
        "font_digit_images": n_fonts,
        "validation": cfg.validation,
        "validation_images": len(x_val),
        "final_val_accuracy": history.get("val_accuracy", [None])[-1],
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "data": str(mnist.source),
        "augment": _augment_dict(cfg.augment),
        "config": _config_dict(cfg),
    }
    atomic.write_json(artifacts["metrics"], metrics)
    final = {name: target.path / path.name for name, path in artifacts.items()}
    return TrainResult(
        run_dir=target.path,
        model_path=final["model"],
        test_accuracy=float(test_accuracy),
        test_loss=float(test_loss),
        params=int(model.count_params()),
        epochs_run=metrics["epochs"],
        train_seconds=train_seconds,
        history=history,
        artifacts=final,
    )
