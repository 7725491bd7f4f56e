"""`finetune()`: adapt a trained model's dense layers to the user's samples, mixed with what it knew."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common import run_dir as rd
from cnn_edge.common.errors import ConfigError, DataError, RunDirError
from cnn_edge.common.limits import MAX_RATIO, check_float
from cnn_edge.finetune.anchors import mixed_training_set, parent_writers
from cnn_edge.finetune.config import MIN_PER_CLASS, FinetuneConfig, FinetuneResult
from cnn_edge.finetune.record import Accuracy, Fitted, write_run
from cnn_edge.finetune.samples import Samples, load_samples
from cnn_edge.trainer.options import check_fit_options

Log = Callable[[str], None]


def validate_config(cfg: FinetuneConfig) -> None:
    """Reject options that cannot work, before anything heavy is read or imported."""
    check_fit_options(cfg.epochs, cfg.batch_size, cfg.learning_rate, cfg.seed)
    if not cfg.mnist_ratio >= 0:
        raise ConfigError(f"--mnist-ratio must be 0 or more, got {cfg.mnist_ratio}")
    check_float("--mnist-ratio", cfg.mnist_ratio, 0.0, MAX_RATIO)
    check_float("--writers-ratio", cfg.writers_ratio, 0.0, MAX_RATIO)
    from cnn_edge.trainer.augment import PRESETS

    if cfg.augment != "none" and cfg.augment not in PRESETS:
        raise ConfigError(f"unknown --augment {cfg.augment!r}",
                          hint=f"choose one of: none, {', '.join(PRESETS)}")
    if not 0 < cfg.holdout < 1:
        raise ConfigError(f"--holdout must be a fraction between 0 and 1, got {cfg.holdout}")
    if not (Path(cfg.run) / rd.MODEL).is_file():
        raise RunDirError(f"no {rd.MODEL} in {cfg.run}", hint="pass --run with a trained run directory")
    if Path(cfg.out).resolve() == Path(cfg.run).resolve():
        raise RunDirError("--out must be a new run directory, not the parent run",
                          hint="the parent run is left as it is; pass another --out")


def check_counts(samples: Samples, log: Log) -> list[str]:
    """Too few samples in a class is an error; classes with none are a warning (MNIST keeps them)."""
    thin = {c: n for c, n in samples.counts.items() if 0 < n < MIN_PER_CLASS}
    if thin:
        listed = ", ".join(f"{c} has {n}" for c, n in thin.items())
        raise DataError(f"too few samples to fine-tune and measure: {listed} "
                        f"(at least {MIN_PER_CLASS} per class)",
                        hint="collect more with `cnn-edge collect --label N`")
    warnings = []
    missing = [c for c, n in samples.counts.items() if n == 0]
    if missing:
        warnings.append(f"no samples of {', '.join(missing)}: those digits are not adapted (MNIST "
                        "images keep them working) and not measured")
    for w in warnings:
        log(f"warning: {w}")
    return warnings


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices: `fraction` of each class held out (at least one, and one kept)."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = min(len(idx) - 1, max(1, int(round(len(idx) * fraction))))
        held.extend(idx[:k])
        train.extend(idx[k:])
    return np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(held, dtype=np.int64))


def _freeze_conv(model: Any, train_conv: bool) -> list[str]:
    """Freeze the convolutional layers unless `train_conv`; returns the frozen layers' names."""
    import keras

    frozen = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.trainable = train_conv
            if not train_conv:
                frozen.append(layer.name)
    return frozen


def _fit_dataset(x: np.ndarray, y: np.ndarray, is_sample: np.ndarray, cfg: FinetuneConfig) -> Any:
    """Seeded, shuffled batches (re-shuffled every epoch); the samples among them augmented.

    A few hundred samples are memorised in a few epochs: the dense layers then learn those very
    photos rather than the writer's shapes. The trainer's camera augmentation (rotation, slant,
    scale, pen width, blur, noise; `cnn_edge.trainer.augment`) shows each sample differently in
    every epoch, the way the same hand writes a digit differently each time. MNIST images stay
    as they are: they anchor what the model already knows.
    """
    import tensorflow as tf

    from cnn_edge.trainer.augment import augment_batch, preset

    params = None if cfg.augment == "none" else preset(cfg.augment)
    images, labels, mask = tf.constant(x), tf.constant(y), tf.constant(is_sample)
    order = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=cfg.seed, reshuffle_each_iteration=True)
    seeds = tf.data.Dataset.random(seed=cfg.seed, rerandomize_each_iteration=True).batch(2)

    def load(index: Any, seed: Any) -> tuple[Any, Any]:
        clean = tf.cast(tf.gather(images, index), tf.float32)
        if params is None:
            return clean, tf.gather(labels, index)
        keep = tf.gather(mask, index)[:, None, None]
        return tf.where(keep, augment_batch(clean, seed, params), clean), tf.gather(labels, index)

    return (tf.data.Dataset.zip(order.batch(cfg.batch_size), seeds)
            .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))


def finetune(cfg: FinetuneConfig, log: Log = lambda _msg: None) -> FinetuneResult:
    """Fine-tune as `cfg` says, write a complete run to `cfg.out`, and return what was measured.

    The parent run is only read. The new run holds model.keras, history.json (validation = the
    held-out samples), training_curves.png and metrics.json with the accuracies before and after
    and the lineage (parent run and model checksum, samples checksum), which `cnn-edge convert`
    copies into manifest.json.
    """
    validate_config(cfg)
    samples = load_samples(Path(cfg.samples), log)
    warnings = check_counts(samples, log)
    train_idx, held_idx = stratified_split(samples.labels, cfg.holdout, cfg.seed)
    from cnn_edge.common.mnist import load_mnist

    mnist = load_mnist(cfg.data)
    # Only now (inputs are good); built beside its place and switched in when complete.
    target = rd.create_run(Path(cfg.out), force=cfg.force, kind="finetune", stage_new=True,
                           inputs=(cfg.run, cfg.samples, cfg.data, mnist.source))
    try:
        result = _finetune_into(cfg, target, samples, warnings, (train_idx, held_idx), mnist, log)
    except BaseException:
        target.discard()
        raise
    target.commit()
    return result


def _finetune_into(cfg: FinetuneConfig, target: rd.RunTarget, samples: Samples, warnings: list[str],
                   split: tuple[np.ndarray, np.ndarray], mnist: Any, log: Log) -> FinetuneResult:
    """Fine-tune and write every artifact into `target.work`; the result names them at `target.path`."""
    from cnn_edge.common.quiet import native_stderr_silenced

    with native_stderr_silenced():
        import keras
        import tensorflow as tf

    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    model = keras.models.load_model(Path(cfg.run) / rd.MODEL)
    fitted = _fit(model, cfg, samples, split, mnist, target.path, log)
    return write_run(target, model, fitted, cfg, samples, split, warnings, mnist.source)


def _fit(model: Any, cfg: FinetuneConfig, samples: Samples, split: tuple[np.ndarray, np.ndarray],
         mnist: Any, shown_path: Path, log: Log) -> Fitted:
    """Measure, fine-tune (frozen convolutions, samples mixed with their anchors), measure again."""
    from cnn_edge.trainer.models import compile_model

    train_idx, held_idx = split
    held = samples.images[held_idx].astype("float32"), samples.labels[held_idx]
    test = mnist.x_test.astype("float32"), mnist.y_test.astype(np.int64)
    before = _accuracy(model, held, test)
    log(f"before: held-out samples {before.holdout:.2%} ({len(held_idx)}), MNIST test {before.mnist:.2%}")

    writers = parent_writers(Path(cfg.run))
    mixed = mixed_training_set(samples, train_idx, mnist, writers, cfg)
    frozen = _freeze_conv(model, cfg.train_conv)
    steps = -(-len(mixed.y) // cfg.batch_size) * cfg.epochs
    compile_model(model, cfg.learning_rate, "cosine", total_steps=steps)
    rehearsed = f" + {mixed.writer_images} of {', '.join(writers)}" if mixed.writer_images else ""
    log(f"fine-tuning on {len(train_idx)} samples + {mixed.mnist_images} MNIST images{rehearsed} "
        f"for {cfg.epochs} epochs; "
        f"frozen: {', '.join(frozen) or 'nothing'}; augmentation of the samples: {cfg.augment}; "
        f"run directory {shown_path}")

    start = time.perf_counter()
    fit = model.fit(_fit_dataset(mixed.x, mixed.y, mixed.is_sample, cfg), epochs=cfg.epochs, shuffle=False,
                    validation_data=held, verbose=cfg.verbose)
    train_seconds = time.perf_counter() - start
    after = _accuracy(model, held, test)
    log(f"after:  held-out samples {after.holdout:.2%}, MNIST test {after.mnist:.2%}")
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    return Fitted(mixed, writers, frozen, before, after, history, train_seconds)


def _accuracy(model: Any, held: tuple[np.ndarray, np.ndarray],
              test: tuple[np.ndarray, np.ndarray]) -> Accuracy:
    """Top-1 accuracy on the held-out samples and on MNIST's test set."""
    def share_right(x: np.ndarray, y: np.ndarray) -> float:
        logits = model.predict(x, batch_size=512, verbose=0)
        return float((np.argmax(logits, axis=1) == y).mean())

    return Accuracy(holdout=share_right(*held), mnist=share_right(*test))
