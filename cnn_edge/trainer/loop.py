"""The one training loop of `cnn-edge train`, the same in one process and under tf.distribute.

A custom step under `strategy.run` instead of Keras' `model.fit`, because `fit` does not run under
MultiWorkerMirroredStrategy in Keras 3 (keras-team/keras issue 20585). With the default strategy
(one process) `strategy.run` is a plain call, so every mode shares this code: the seeded batches,
the optimizer with its cosine schedule, the per-epoch callback (checkpoint, history) and progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

EpochEnd = Callable[[int, dict[str, float]], None]


def _train_step(strategy: Any, model: Any) -> Any:
    """One optimizer step on a distributed batch; returns (loss sum, correct, images) over all replicas."""
    import keras
    import tensorflow as tf

    per_example = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    optimizer = model.optimizer
    SUM = tf.distribute.ReduceOp.SUM

    def replica_step(x: Any, y: Any) -> tuple[Any, Any, Any]:
        count = tf.cast(tf.shape(y)[0], tf.float32)
        # The mean over the *global* batch, whatever its split: each replica divides its sum by
        # the images of all replicas, and the optimizer sums the replicas' gradients. One replica:
        # the plain batch mean, as model.fit computes it.
        total = tf.distribute.get_replica_context().all_reduce(SUM, count)
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_sum = tf.reduce_sum(per_example(y, logits))
            loss = loss_sum / tf.maximum(total, 1.0)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        hits = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, -1), tf.cast(y, tf.int64)), tf.float32))
        return loss_sum, hits, count

    @tf.function
    def step(batch: Any) -> list[Any]:
        sums = strategy.run(replica_step, args=batch)
        return [strategy.reduce(SUM, value, axis=None) for value in sums]

    return step


Evaluate = Callable[[np.ndarray, np.ndarray], tuple[float, float]]


def evaluator(model: Any, batch_size: int = 512) -> Evaluate:
    """A function giving (mean loss, accuracy) of `model` on raw pixels, computed in this process alone.

    Every worker holds the same weights after each synchronous step, so each evaluates locally:
    no collective, nothing a missing worker could block. Built once per run and called every epoch:
    a `tf.function` made anew on each call is traced anew (TensorFlow's "retracing" warning, and
    a traced graph freed every epoch whose `__del__` can swallow a Ctrl-C).
    """
    import keras
    import tensorflow as tf

    per_example = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)

    # reduce_retracing: the last, shorter batch reuses the first trace instead of adding one.
    @tf.function(reduce_retracing=True)
    def sums(xb: Any, yb: Any) -> tuple[Any, Any]:
        logits = model(xb, training=False)
        hits = tf.cast(tf.equal(tf.argmax(logits, -1), tf.cast(yb, tf.int64)), tf.float64)
        return tf.reduce_sum(tf.cast(per_example(yb, logits), tf.float64)), tf.reduce_sum(hits)

    def evaluate_pixels(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        loss, hits = 0.0, 0.0
        for start in range(0, len(x), batch_size):
            xb = tf.constant(x[start : start + batch_size].astype("float32"))
            batch_loss, batch_hits = sums(xb, tf.constant(y[start : start + batch_size]))
            loss, hits = loss + float(batch_loss), hits + float(batch_hits)
        return loss / max(1, len(x)), hits / max(1, len(x))

    return evaluate_pixels


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int = 512) -> tuple[float, float]:
    """(mean loss, accuracy) of `model` on raw pixels `x`, for a single evaluation (the test set)."""
    return evaluator(model, batch_size)(x, y)


def run_epochs(
    strategy: Any,
    model: Any,
    dataset_for: Callable[[int], Any],
    *,
    steps: int,
    epochs: int,
    initial_epoch: int,
    validation: tuple[np.ndarray, np.ndarray],
    on_epoch_end: EpochEnd,
    on_step: Callable[[], None] = lambda: None,
    verbose: int = 1,
    log: Callable[[str], None] = lambda _msg: None,
) -> None:
    """Train epochs `initial_epoch..epochs-1`; after each, `on_epoch_end(epoch, logs)` with Keras'
    log names (loss, accuracy, val_loss, val_accuracy). `dataset_for(epoch)` gives the epoch's
    batches (global batch size); `on_step` is called after every step (the watchdog's pat)."""
    import keras

    step = _train_step(strategy, model)
    evaluate_validation = evaluator(model)
    names = ["accuracy", "loss", "val_accuracy", "val_loss"]
    for epoch in range(initial_epoch, epochs):
        if verbose:
            log(f"Epoch {epoch + 1}/{epochs}")
        bar = keras.utils.Progbar(steps, verbose=verbose, stateful_metrics=names)
        loss_sum, hits, seen = 0.0, 0.0, 0.0
        batches = strategy.experimental_distribute_dataset(dataset_for(epoch))
        for done, batch in enumerate(batches, start=1):
            batch_loss, batch_hits, batch_seen = step(batch)
            loss_sum += float(batch_loss)
            hits += float(batch_hits)
            seen += float(batch_seen)
            on_step()
            if done < steps:
                bar.update(done, [("accuracy", hits / seen), ("loss", loss_sum / seen)])
        val_loss, val_accuracy = evaluate_validation(*validation)
        logs = {"accuracy": hits / max(seen, 1.0), "loss": loss_sum / max(seen, 1.0)}
        logs.update(val_accuracy=val_accuracy, val_loss=val_loss)
        bar.update(steps, list(logs.items()), finalize=True)
        on_epoch_end(epoch, logs)
