"""The training images as seeded tf.data pipelines: one pass is one epoch, the same for every worker."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnn_edge.trainer.config import TrainConfig


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
