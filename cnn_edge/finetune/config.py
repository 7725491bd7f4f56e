"""Configuration and result of `cnn-edge finetune` (plain data: importing this is cheap)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# MNIST training images mixed in per user sample, so the model does not forget MNIST
# (measured: benchmarks/results/finetune.md).
DEFAULT_MNIST_RATIO = 5.0
# Images of the other writers the parent learned (`train --other-writers`), rehearsed per user
# sample besides MNIST (`cnn_edge.finetune.anchors`; measured: benchmarks/results/finetune_writers.md).
DEFAULT_WRITERS_RATIO = 8.0
# The trainer's augmentation preset applied to the samples (benchmarks/results/finetune_writers.md):
# on validation writers it removed more of the error on the same writers' other digits than
# un-augmented samples (4 of 4 runs), and never lost on a new group of writers.
DEFAULT_AUGMENT = "light"
# Fewer samples than this in a class present in the folder is an error: nothing to hold out.
MIN_PER_CLASS = 5


@dataclass(frozen=True)
class FinetuneConfig:
    """What to fine-tune, on what, and where to write the new run.

    Fields:
        run: the parent run directory (its model.keras is the starting point; it is not changed).
        samples: a folder in the one-folder-per-class layout (SAMPLES/0 ... SAMPLES/9) as
            `cnn-edge collect` writes it; a sample with a `.28x28.png` beside it is taken as that
            28x28 input (what the runtime made of it when collected), any other photo is put
            through the runtime's `preprocess` (as `cnn-edge infer` does for files).
        out: the new run directory (must not exist or be empty, unless `force`).
        mnist_ratio: MNIST training images mixed in per user training sample (0: none).
        writers_ratio: images of the other writers the parent run learned from (its training
            writers, `cnn-edge train --other-writers`) mixed in per user training sample (0: none;
            a parent that learned none rehearses MNIST only).
        train_conv: also train the convolutional layers (default: frozen, only the dense
            layers learn).
        epochs: passes over the mixed training set.
        batch_size: images per Adam step.
        learning_rate: Adam's initial step size, cosine-decayed to zero over the run (3e-4: at
            1e-3 the model forgot 0.2-0.5 points of MNIST; benchmarks/results/finetune.md).
        augment: the trainer's augmentation preset applied to the samples in every batch
            ("camera", "light"; "none": the samples as they are). MNIST images are never augmented.
        holdout: fraction of each class's samples held out to measure the effect (stratified,
            at least one per class).
        seed: seeds the split, the MNIST draw, shuffling and TensorFlow.
        data: path of an mnist.npz; None follows the lookup order of `cnn_edge.common.mnist`.
        force: replace an existing `out`.
        verbose: Keras' progress output (0 silent, 1 progress bar, 2 one line per epoch).
    """

    run: Path
    samples: Path
    out: Path
    mnist_ratio: float = DEFAULT_MNIST_RATIO
    writers_ratio: float = DEFAULT_WRITERS_RATIO
    train_conv: bool = False
    epochs: int = 15
    batch_size: int = 64
    learning_rate: float = 3e-4
    holdout: float = 0.25
    augment: str = DEFAULT_AUGMENT
    seed: int = 0
    data: Path | None = None
    force: bool = False
    verbose: int = 0


@dataclass(frozen=True)
class FinetuneResult:
    """What the new run holds and measured (accuracies are fractions; None when not measured)."""

    run_dir: Path
    model_path: Path
    samples_train: int
    samples_holdout: int
    mnist_images: int
    writer_images: int
    holdout_before: float
    holdout_after: float
    mnist_before: float
    mnist_after: float
    train_seconds: float
    warnings: list[str] = field(default_factory=list)
    artifacts: dict[str, Path] = field(default_factory=dict)
