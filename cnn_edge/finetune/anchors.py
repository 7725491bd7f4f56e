"""What a fine-tune mixes in beside the user's samples, so the model keeps what it knew.

A few hundred samples alone would pull the dense layers towards those photos and away from
everything else: the user's other digits (which the samples only hint at) and every writer the
parent learned. So each batch also holds, per user sample:
- `mnist_ratio` MNIST training images (the seed recipe's writers), and
- `writers_ratio` freshly drawn images of the other writers the parent run learned from
  (`cnn-edge train --other-writers`: their training writers only, rendered the trainer's way).
  Rehearsing them is what lets the fine-tune help a new group of writers as well as the user's
  own hand (benchmarks/results/finetune_writers.md). A parent that learned no other writers
  rehearses MNIST only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common import run_dir as rd
from cnn_edge.finetune.config import FinetuneConfig
from cnn_edge.finetune.samples import Samples

# Seeds of the two draws, apart from each other and from the split (cfg.seed) and training.
_MNIST_SEED_OFFSET, _WRITERS_SEED_OFFSET = 1, 2


@dataclass(frozen=True, eq=False)
class MixedSet:
    """Images to fit (uint8 28x28) and labels; `is_sample` marks the user's (only they are augmented)."""

    x: np.ndarray
    y: np.ndarray
    is_sample: np.ndarray
    mnist_images: int
    writer_images: int


def parent_writers(run: Path) -> tuple[str, ...]:
    """The other writers' sets the parent run learned (trained on, or inherited by a fine-tune).

    Read from the run's metrics.json: a `cnn-edge train` run names them in `config.other_writers`,
    a fine-tuned run in `learned_writers`. A run without them (or with no readable metrics)
    learned none.
    """
    try:
        metrics = json.loads((Path(run) / rd.METRICS).read_text())
    except (OSError, ValueError):
        return ()
    if not isinstance(metrics, dict):
        return ()
    names = metrics.get("learned_writers")
    if names is None:
        config = metrics.get("config")
        names = config.get("other_writers") if isinstance(config, dict) else None
    from cnn_edge.trainer.other_writers import TRAINABLE

    return tuple(n for n in names if n in TRAINABLE) if isinstance(names, list) else ()


def mixed_training_set(samples: Samples, train_idx: np.ndarray, mnist: Any, writers: tuple[str, ...],
                       cfg: FinetuneConfig) -> MixedSet:
    """The samples to learn, then MNIST and the parent's other writers to rehearse."""
    n = len(train_idx)
    rng = np.random.default_rng(cfg.seed + _MNIST_SEED_OFFSET)
    n_mnist = min(len(mnist.x_train), int(round(cfg.mnist_ratio * n)))
    pick = rng.choice(len(mnist.x_train), size=n_mnist, replace=False)
    xs = [samples.images[train_idx], mnist.x_train[pick]]
    ys = [samples.labels[train_idx], mnist.y_train[pick].astype(np.int64)]
    n_writers = int(round(cfg.writers_ratio * n)) if writers else 0
    if n_writers:
        x_w, y_w = _writer_images(writers, n_writers, cfg.seed + _WRITERS_SEED_OFFSET)
        xs.append(x_w)
        ys.append(y_w.astype(np.int64))
        n_writers = len(y_w)
    x = np.concatenate(xs).astype(np.uint8)
    y = np.concatenate(ys)
    return MixedSet(x, y, np.arange(len(y)) < n, n_mnist, n_writers)


def _writer_images(writers: tuple[str, ...], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` rehearsal images; the other writers' files missing (an install without the checkout's
    data/) is the usual one-line error, saying how to fine-tune without them."""
    from cnn_edge.common.errors import DataError
    from cnn_edge.trainer.writer_images import sampled_training_images

    try:
        x, y, _, _ = sampled_training_images(writers, n, seed)
    except DataError as exc:
        raise DataError(
            f"the parent run learned other writers ({', '.join(writers)}) that this fine-tune "
            f"rehearses, but {exc.message}",
            hint="; or ".join(filter(None, [exc.hint, "pass --writers-ratio 0 to fine-tune without them"])),
        ) from exc
    return x, y
