"""Configuration and result of `cnn-edge train` (plain data: importing this is cheap)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ARCHES = ("cnn", "softmax")
VALIDATION_MODES = ("holdout", "test")
LR_SCHEDULES = ("cosine", "constant")
# Presets of `cnn_edge.trainer.augment` (named here so the CLI can check them without TensorFlow).
AUGMENT_PRESETS = ("camera", "light")
DEFAULT_EPOCHS = 10
# Epochs `cnn-edge train --augment` runs when --epochs is not given: augmented images are harder,
# so the model needs more passes to converge (measured: benchmarks/results/augment.md).
AUGMENT_EPOCHS = 20
# Varied copies of each training font's digits `cnn-edge train --augment` adds when --font-digits
# is not given (`cnn_edge.trainer.font_digits`; measured: benchmarks/results/augment.md).
AUGMENT_FONT_DIGITS = 16
# `--distribute`: "none" trains in this process on TensorFlow's default device; "mirrored" copies
# the model onto every local device (GPUs, else the CPU) with tf.distribute.MirroredStrategy;
# "multi-worker" trains synchronously across processes or machines with
# tf.distribute.MultiWorkerMirroredStrategy (cluster from --workers/--worker-index or TF_CONFIG).
DISTRIBUTE_MODES = ("none", "mirrored", "multi-worker")
# Other writers' real handwriting `cnn-edge train --augment` learns from when --other-writers is not
# given: the training writers of these sets only (`cnn_edge.trainer.other_writers` owns the split:
# optdigits windep, pendigits writers 30-43, semeion block 5 and all of mfeat are held out), each
# digit in `AUGMENT_OTHER_WRITER_COPIES` varied renders. Semeion (stretched to its box when it was
# made) joined after it lifted its validation writers 95.0% -> 96.7% and cost the others nothing
# (benchmarks/results/other_writers.md). Two renders rather than one: with optdigits left out of
# training, on two seeds' means, the source never seen gained too (optdigits windep +0.33 clean,
# +0.25 photos; mfeat +0.30), and on the full recipe semeion's held-out block met 96%, for 12%
# more images an epoch (same file).
AUGMENT_OTHER_WRITERS = ("optdigits", "pendigits", "semeion")
AUGMENT_OTHER_WRITER_COPIES = 2


@dataclass(frozen=True)
class TrainConfig:
    """What to train and where to write it.

    Fields:
        out: run directory; None picks the first free `runs/train`, `runs/train2`, ...
        arch: "cnn" (the seed CNN) or "softmax" (the softmax-regression baseline).
        hidden_units: width of the CNN's dense layer (128 by default; 1024 is the seed's big variant).
        epochs: passes over the training images; None: 10, or AUGMENT_EPOCHS with `augment`.
        batch_size: images per Adam step.
        learning_rate: Adam's step size.
        lr_schedule: "cosine" decays the learning rate to zero over the run (measured best, see
            benchmarks/RESULTS.md); "constant" keeps it fixed as the seed's notebook does.
        dropout: rate of the two dropout layers before the dense layers (training only).
        data: path of an mnist.npz; None follows the lookup order of `cnn_edge.common.mnist`.
        train_limit: use only the first N training images (quick runs); None uses all.
        validation: "holdout" validates on the last `validation_size` training images (kept out of
            training, test set untouched until the end); "test" validates on the test set as the
            seed's notebook does and trains on every training image.
        validation_size: size of the holdout slice.
        seed: seeds Python, numpy and TensorFlow; same seed and data give the same weights here.
        force: replace an existing run directory.
        resume: continue the run in `out` from its last complete epoch.
        verbose: Keras' progress output (0 silent, 1 progress bar, 2 one line per epoch).
        augment: None trains on the images as they are; a preset name of
            `cnn_edge.trainer.augment` ("camera", "light") makes every batch look like the edge
            runtime's view of a photo (rotation, slant, scale, stroke width, blur, noise, contrast,
            border clutter), on the fly in a seeded tf.data pipeline. The model is unchanged.
        font_digits: varied copies of each digit of the shipped handwriting fonts (the training
            fonts only) added to the training images, 0 for none: shapes MNIST's writers rarely
            drew (closed 4s, flagged 1s, crossed 7s). Never in the validation or test images.
            None: AUGMENT_FONT_DIGITS with `augment`, else 0.
        distribute: one of DISTRIBUTE_MODES. Under "mirrored" and "multi-worker" `batch_size` is
            per replica and `learning_rate` is for that batch: the global batch and the rate grow
            with the number of replicas (`cnn_edge.trainer.distribute.scaled`).
        workers: "multi-worker" only: every worker's host:port, the chief (worker 0) first; empty
            reads the cluster from the TF_CONFIG environment variable instead.
        worker_index: "multi-worker" with `workers`: this process's place in that list.
        worker_timeout: seconds a worker waits for the others (to start, and in each collective
            step) before it gives up with one clear line instead of hanging.
        other_writers: sets of real handwriting by other writers whose TRAINING writers join the
            training images ("optdigits", "pendigits", "semeion"; empty for none, the seed's
            recipe). Their validation and held-out writers never do (`cnn_edge.trainer.other_writers`).
            None: AUGMENT_OTHER_WRITERS with `augment`, else none.
        other_writer_copies: varied renders of each of those digits (pen, slant, rotation, width),
            each framed by the runtime's own preprocessing.
    """

    out: Path | None = None
    arch: str = "cnn"
    hidden_units: int = 128
    epochs: int | None = None
    batch_size: int = 128
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"
    dropout: float = 0.5
    data: Path | None = None
    train_limit: int | None = None
    validation: str = "holdout"
    validation_size: int = 5000
    seed: int = 42
    force: bool = False
    resume: bool = False
    verbose: int = 1
    augment: str | None = None
    font_digits: int | None = None
    distribute: str = "none"
    workers: tuple[str, ...] = ()
    worker_index: int | None = None
    worker_timeout: float = 300.0
    other_writers: tuple[str, ...] | None = None
    other_writer_copies: int = AUGMENT_OTHER_WRITER_COPIES

    def __post_init__(self) -> None:
        # The recipe's defaults live here, not in the CLI: a library caller asking for
        # `augment` gets the same 20 epochs and font digits as `cnn-edge train --augment`.
        augmented = self.augment is not None
        for name in ("workers", "other_writers"):  # a list when read back from checkpoint.json
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.epochs is None:
            object.__setattr__(self, "epochs", AUGMENT_EPOCHS if augmented else DEFAULT_EPOCHS)
        if self.font_digits is None:
            object.__setattr__(self, "font_digits", AUGMENT_FONT_DIGITS if augmented else 0)
        if self.other_writers is None:
            object.__setattr__(self, "other_writers", AUGMENT_OTHER_WRITERS if augmented else ())


@dataclass(frozen=True)
class TrainResult:
    """What a finished run wrote and measured."""

    run_dir: Path
    model_path: Path
    test_accuracy: float
    test_loss: float
    params: int
    epochs_run: int
    train_seconds: float
    history: dict[str, list[float]] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)
