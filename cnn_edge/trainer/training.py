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
from cnn_edge.common import run_dir as rd
from cnn_edge.common.errors import ClusterError, ConfigError, Interrupted, RunDirError
from cnn_edge.common.mnist import load_mnist
from cnn_edge.trainer.config import (
    ARCHES,
    AUGMENT_PRESETS,
    LR_SCHEDULES,
    VALIDATION_MODES,
    TrainConfig,
    TrainResult,
)
from cnn_edge.trainer.distribute import (
    Cluster,
    Placement,
    Watchdog,
    check_distribute,
    cluster_from,
    placement,
    scaled,
    worker_scratch,
)

Log = Callable[[str], None]


def check_fit_options(epochs: int, batch_size: int, learning_rate: float) -> None:
    """The options every Keras fit here takes (train, finetune): one clear line when unusable."""
    if epochs < 1:
        raise ConfigError(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
    if not learning_rate > 0:
        raise ConfigError(f"--learning-rate must be positive, got {learning_rate}")


def validate_config(cfg: TrainConfig) -> None:
    """Reject options that cannot work, before anything heavy is imported."""
    check_fit_options(cfg.epochs, cfg.batch_size, cfg.learning_rate)
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


def _checkpoint_writer(run: Path, cfg: TrainConfig, history: dict[str, list[float]], model: Any) -> Any:
    """After each epoch: the model (with optimizer state) and the history so far, atomically."""

    def on_epoch_end(epoch: int, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
        with atomic.atomic_path(run / rd.CHECKPOINT) as tmp:
            model.save(tmp)
        state = {"epoch": epoch + 1, "history": history, "config": _config_dict(cfg)}
        atomic.write_json(run / rd.CHECKPOINT_STATE, state)

    return on_epoch_end


def augmented_dataset(
    x: np.ndarray, y: np.ndarray, cfg: TrainConfig, first_epoch: int = 0, batch_size: int | None = None
) -> Any:
    """A seeded tf.data pipeline of shuffled, augmented batches (one pass = one epoch).

    Shuffling gathers whole batches by index and augmentation runs on the batch, so every op
    works on (batch, 28, 28) at once; `prefetch` overlaps it with the training step. Each batch
    gets its own stateless seed from a seeded random stream, re-drawn every epoch, so the same
    seed gives the same images. A resumed run starts both streams from `first_epoch`, so it
    does not replay epoch 1's images (it is reproducible, though not identical to an
    uninterrupted run, like the un-augmented path's shuffling). `batch_size` (default: the
    config's) is the global batch of a distributed run.
    """
    import tensorflow as tf

    from cnn_edge.trainer.augment import augment_batch, preset

    params = preset(cfg.augment or "camera")
    stream_seed = cfg.seed * 1_000_003 + first_epoch  # distinct per (seed, resume point)
    images, labels = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=stream_seed, reshuffle_each_iteration=True)
    batches = order.batch(batch_size or cfg.batch_size)
    seeds = tf.data.Dataset.random(seed=stream_seed, rerandomize_each_iteration=True).batch(2)

    def load(index: Any, seed: Any) -> tuple[Any, Any]:
        return augment_batch(tf.gather(images, index), seed, params), tf.gather(labels, index)

    return (
        tf.data.Dataset.zip(batches, seeds)
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def training_dataset(x: np.ndarray, y: np.ndarray, cfg: TrainConfig, epoch: int, batch_size: int) -> Any:
    """Epoch `epoch`'s batches: a fresh pipeline seeded by (seed, epoch), iterated once.

    Seeding by epoch rather than reshuffling one pipeline makes each epoch's order a function of
    the seed alone: a resumed run sees the images an uninterrupted one would, and a distributed
    run never depends on how tf.distribute rebuilds the pipeline. Every worker builds the same
    batches; tf.distribute splits each global batch between the replicas (sharding by data).
    """
    import tensorflow as tf

    if cfg.augment is not None:
        dataset = augmented_dataset(x, y, cfg, epoch, batch_size)
    else:
        images, labels = tf.constant(x), tf.constant(y)
        order = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=cfg.seed * 1_000_003 + epoch)
        dataset = (
            order.batch(batch_size)
            .map(lambda i: (tf.cast(tf.gather(images, i), tf.float32), tf.gather(labels, i)))
            .prefetch(tf.data.AUTOTUNE)
        )
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


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
            # Where it trains is this call's choice (a run may resume on other hardware).
            distribute=cfg.distribute,
            workers=tuple(cfg.workers),
            worker_index=cfg.worker_index,
            worker_timeout=cfg.worker_timeout,
            resume=True,
            force=False,
        )
        return TrainConfig(**kept), int(state["epoch"]), {k: list(v) for k, v in state["history"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunDirError(
            f"cannot resume {run}: {rd.CHECKPOINT_STATE} is unreadable ({exc})", hint="start a new run"
        ) from exc


def _run_folder(cfg: TrainConfig, cluster: Cluster | None) -> Path:
    """The folder this process writes: the run folder, or a non-chief worker's scratch."""
    if cluster is None or cluster.is_chief:
        return rd.prepare_run_dir(cfg.out, force=cfg.force, resume=cfg.resume)
    scratch = worker_scratch(cfg.out, cluster)  # type: ignore[arg-type]  # checked: multi-worker has --out
    return rd.prepare_run_dir(scratch, force=True, resume=cfg.resume)


def _model_for(
    cfg: TrainConfig, run: Path, place: Placement, steps_per_epoch: int, learning_rate: float
) -> Any:
    """The model with its optimizer, its variables created under the strategy's scope."""
    import keras

    from cnn_edge.trainer.models import build_model, compile_model

    with place.strategy.scope():
        if cfg.resume:
            return keras.models.load_model(run / rd.CHECKPOINT)
        model = build_model(cfg.arch, cfg.hidden_units, cfg.dropout)
        compile_model(model, learning_rate, cfg.lr_schedule, total_steps=steps_per_epoch * cfg.epochs)
        model.optimizer.build(model.trainable_variables)  # not lazily inside the replica step
        return model


def train(cfg: TrainConfig, log: Log = lambda _msg: None, watchdog: Watchdog | None = None) -> TrainResult:
    """Train as `cfg` says, write the run's artifacts, and return what was measured.

    `log` receives human-readable progress lines (the model summary, where files went); the
    progress bar follows `cfg.verbose`. Ctrl-C or SIGTERM raises `Interrupted` after the
    last complete epoch's checkpoint is safe on disk. Under "multi-worker", `watchdog` (default:
    a separate process that ends this one with one line) fires when the cluster makes no progress for
    `cfg.worker_timeout` seconds.
    """
    validate_config(cfg)
    check_distribute(cfg)
    cluster = cluster_from(cfg) if cfg.distribute == "multi-worker" else None
    initial_epoch, history = 0, {}
    if cfg.resume:
        run = _run_folder(cfg, cluster)
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
    if not cfg.resume:
        # Only now: bad data or options must not leave an empty run directory behind.
        run = _run_folder(cfg, cluster)

    from cnn_edge.common.quiet import native_stderr_silenced

    with native_stderr_silenced():  # TensorFlow's start-up chatter goes straight to fd 2
        import keras
        import tensorflow as tf

    from cnn_edge.trainer.loop import evaluate, run_epochs
    from cnn_edge.trainer.models import summary_text

    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    watchdog = watchdog if watchdog is not None else Watchdog(cfg.worker_timeout)
    place = placement(cfg, watchdog)
    global_batch, learning_rate = scaled(cfg, place.replicas)
    steps_per_epoch = -(-len(x_fit) // global_batch)
    model = _model_for(cfg, run, place, steps_per_epoch, learning_rate)
    if cfg.resume:
        log(f"Resuming {run} after epoch {initial_epoch} of {cfg.epochs}")
    log(summary_text(model))
    fonts_note = f" ({n_fonts} of them handwriting-font digits)" if n_fonts else ""
    log(
        f"Training on {len(x_fit)} images{fonts_note}, validating on {len(x_val)} ({cfg.validation}); "
        f"run directory {run}"
    )
    if place.mode != "none":
        role = (
            "" if place.cluster is None else f"; this is {place.cluster.task_type} {place.cluster.task_index}"
        )
        log(
            f"{place.mode}: {place.replicas} replica(s), global batch {global_batch}, "
            f"learning rate {learning_rate:g}{role}"
        )
    if cfg.augment is not None:
        log(f"Augmenting the training images on the fly: preset {cfg.augment!r}")
    pat = (lambda: watchdog.pat("a training step of the cluster")) if place.cluster else (lambda: None)
    start = time.perf_counter()
    try:
        with _sigterm_as_exception():
            pat()
            run_epochs(
                place.strategy,
                model,
                lambda epoch: training_dataset(x_fit, y_fit, cfg, epoch, global_batch),
                steps=steps_per_epoch,
                epochs=cfg.epochs,
                initial_epoch=initial_epoch,
                validation=(x_val, y_val),
                on_epoch_end=_checkpoint_writer(run, cfg, history, model),
                on_step=pat,
                verbose=cfg.verbose,
                log=log,
            )
    except (KeyboardInterrupt, _Terminated) as exc:
        done = len(history.get("loss", []))
        saved = (
            f"checkpoint of epoch {done} kept in {run / rd.CHECKPOINT}" if done else "no epoch had finished"
        )
        raise Interrupted(
            f"training interrupted ({saved})",
            exit_code=130 if isinstance(exc, KeyboardInterrupt) else 143,
            hint=f"continue with `cnn-edge train --out {run} --resume`" if done else None,
        ) from None
    except tf.errors.OpError as exc:
        if place.cluster is None:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClusterError(
            f"the cluster broke during training ({type(exc).__name__}: {first})",
            hint="restart every worker with --resume to continue from the last epoch",
        ) from None
    finally:
        watchdog.stop()
    train_seconds = time.perf_counter() - start
    test_loss, test_accuracy = evaluate(model, mnist.x_test, mnist.y_test)
    placed = {
        "mode": place.mode,
        "replicas": place.replicas,
        "global_batch_size": global_batch,
        "learning_rate": learning_rate,
        "workers": place.cluster.size if place.cluster else 1,
        "chief": place.is_chief,
    }
    return _write_artifacts(
        run,
        cfg,
        model,
        history,
        train_seconds,
        initial_epoch,
        (test_loss, test_accuracy),
        {
            "train_images": len(x_fit),
            "font_digit_images": n_fonts,
            "validation": cfg.validation,
            "validation_images": len(x_val),
            "data": str(mnist.source),
            "distribute": placed,
        },
    )


def _write_artifacts(
    run: Path,
    cfg: TrainConfig,
    model: Any,
    history: dict[str, list[float]],
    train_seconds: float,
    initial_epoch: int,
    test: tuple[float, float],
    facts: dict[str, Any],
) -> TrainResult:
    """model.keras, history.json, training_curves.png and metrics.json, each atomically."""
    import keras
    import tensorflow as tf

    from cnn_edge.trainer.curves import plot_training_curves

    test_loss, test_accuracy = test
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
        "train_images": facts["train_images"],
        "font_digit_images": facts["font_digit_images"],
        "validation": facts["validation"],
        "validation_images": facts["validation_images"],
        "final_val_accuracy": history.get("val_accuracy", [None])[-1],
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "data": facts["data"],
        "augment": _augment_dict(cfg.augment),
        "distribute": facts["distribute"],
        "config": _config_dict(cfg),
    }
    atomic.write_json(artifacts["metrics"], metrics)
    return TrainResult(
        run_dir=run,
        model_path=artifacts["model"],
        test_accuracy=float(test_accuracy),
        test_loss=float(test_loss),
        params=int(model.count_params()),
        epochs_run=metrics["epochs"],
        train_seconds=train_seconds,
        history=history,
        artifacts=artifacts,
    )
