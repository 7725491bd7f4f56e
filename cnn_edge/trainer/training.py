"""`train()`: fit the seed's model on MNIST, keeping a checkpoint after every epoch.

One path for every mode: in this process, on every local device (`mirrored`) or across workers
(`multi-worker`), the model trains in the same loop (`loop.run_epochs`) on the same seeded
batches (`datasets`), with the same checkpoints (`checkpoints`) and artifacts (`artifacts`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnn_edge.common import run_dir as rd
from cnn_edge.common.errors import ClusterError, ConfigError, Interrupted
from cnn_edge.common.mnist import load_mnist
from cnn_edge.common.signals import sigint_recorded, sigterm_raises
from cnn_edge.trainer.checkpoints import checkpoint_writer, config_from_checkpoint
from cnn_edge.trainer.config import TrainConfig, TrainResult
from cnn_edge.trainer.distribute import (
    Cluster,
    Placement,
    Watchdog,
    cluster_from,
    placement,
    scaled,
    worker_scratch,
)
from cnn_edge.trainer.options import validate_config
from cnn_edge.trainer.other_writers import HELD_OUT
from cnn_edge.trainer.training_set import FONT, TrainingSet, training_set

Log = Callable[[str], None]


class _Terminated(BaseException):
    """Raised in the main thread on SIGTERM so training unwinds like Ctrl-C."""


def train(cfg: TrainConfig, log: Log = lambda _msg: None, watchdog: Watchdog | None = None) -> TrainResult:
    """Train as `cfg` says, write the run's artifacts, and return what was measured.

    `log` receives human-readable progress lines (the model summary, where files went); the
    progress bar follows `cfg.verbose`. Ctrl-C or SIGTERM raises `Interrupted` after the last
    complete epoch's checkpoint is safe on disk. A run replaced with `force` is built beside the
    old one and switched in only when complete; until then the old run is intact. Under
    "multi-worker", `watchdog` (default: a separate process that ends this one with one line)
    fires when the cluster makes no progress for `cfg.worker_timeout` seconds.
    """
    validate_config(cfg)
    cluster = cluster_from(cfg) if cfg.distribute == "multi-worker" else None
    initial_epoch, history, run = 0, {}, None
    if cfg.resume and not _blank_worker(cfg.out, cluster):
        run = rd.resume_run(_own_folder(cfg.out, cluster))
        cfg, initial_epoch, history = config_from_checkpoint(cfg, run)
        if initial_epoch >= cfg.epochs:
            raise ConfigError(
                f"{run} already has {initial_epoch} epochs; nothing to resume for --epochs {cfg.epochs}",
                hint=f"pass --epochs larger than {initial_epoch} to train further",
            )
    mnist = load_mnist(cfg.data)
    data = training_set(cfg, mnist)
    if run is not None:
        target = rd.RunTarget(path=run, work=run)
    else:
        # Only now: bad data or options must not leave an empty run directory behind.
        own = _own_folder(cfg.out, cluster)
        is_chief = cluster is None or cluster.is_chief
        target = rd.create_run(own, force=cfg.force or not is_chief, inputs=(mnist.source, cfg.data),
                               kind="train" if is_chief else "worker scratch")
    try:
        result = _train_into(cfg, target, data, mnist, (initial_epoch, history), watchdog, log)
    except BaseException:
        target.discard()  # a replacement that did not finish: the old run stays as it was
        raise
    target.commit()
    return result


def _blank_worker(out: Path | None, cluster: Cluster | None) -> bool:
    """A non-chief worker resuming without a checkpoint of its own (gone with its temp dir).

    It starts from a blank model: `chief_state.take_chief_state` gives it the chief's.
    """
    own = _own_folder(out, cluster)
    return cluster is not None and not cluster.is_chief and own is not None and not (
        own / rd.CHECKPOINT_STATE).is_file()


def _own_folder(out: Path | None, cluster: Cluster | None) -> Path | None:
    """The folder this process writes: the run (`out`), or a non-chief worker's scratch."""
    if cluster is None or cluster.is_chief:
        return out
    assert out is not None  # check_distribute: multi-worker needs --out
    return worker_scratch(out, cluster)


def _model_for(cfg: TrainConfig, run: Path, place: Placement, steps_per_epoch: int,
               learning_rate: float) -> Any:
    """The model with its optimizer, its variables created under the strategy's scope.

    Under "multi-worker" every worker creates its variables the same way, in the same order,
    checkpoint or not: MultiWorkerMirroredStrategy pairs each creation with the chief's (a
    collective broadcast), and a loaded model creates them in another order than a built one.
    The checkpoint's values are loaded into them afterwards.
    """
    import keras

    from cnn_edge.trainer.models import build_model, compile_model

    saved = run / rd.CHECKPOINT
    with place.strategy.scope():
        if cfg.resume and saved.is_file() and place.cluster is None:
            return keras.models.load_model(saved)
        model = build_model(cfg.arch, cfg.hidden_units, cfg.dropout)
        compile_model(model, learning_rate, cfg.lr_schedule, total_steps=steps_per_epoch * cfg.epochs)
        model.optimizer.build(model.trainable_variables)  # not lazily inside the replica step
    if cfg.resume and saved.is_file():
        # Outside the scope: loading makes helper variables of its own, which must not be
        # paired with other workers' creations.
        model.load_weights(saved)  # weights and optimizer state (Adam's moments, its step)
    return model


def _train_into(cfg: TrainConfig, target: rd.RunTarget, data: TrainingSet, mnist: Any,
                resumed: tuple[int, dict[str, list[float]]], watchdog: Watchdog | None,
                log: Log) -> TrainResult:
    """Fit and write every artifact into `target.work`; the result names them at `target.path`."""
    from cnn_edge.common.quiet import native_stderr_silenced

    with native_stderr_silenced():  # TensorFlow's start-up chatter goes straight to fd 2
        import keras
        import tensorflow as tf

    from cnn_edge.trainer.artifacts import write_artifacts
    from cnn_edge.trainer.loop import evaluate

    initial_epoch, history = resumed
    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    watchdog = watchdog if watchdog is not None else Watchdog(cfg.worker_timeout)
    place = placement(cfg, watchdog)
    global_batch, learning_rate = scaled(cfg, place.replicas)
    steps = -(-len(data.x_fit) // global_batch)
    model = _model_for(cfg, target.work, place, steps, learning_rate)
    if place.cluster is not None and cfg.resume:
        from cnn_edge.trainer.chief_state import take_chief_state

        initial_epoch = take_chief_state(place.strategy, model, initial_epoch)
        history = {key: values[:initial_epoch] for key, values in history.items()}
        resumed = (initial_epoch, history)
    _log_plan(cfg, target, data, model, place, (global_batch, learning_rate), initial_epoch, log)
    start = time.perf_counter()
    try:
        _fit(cfg, target, data, model, place, (global_batch, steps), resumed, watchdog, log)
    finally:
        watchdog.stop()
    train_seconds = time.perf_counter() - start
    facts = {
        "train_seconds": round(train_seconds, 2),
        "seconds_per_epoch": round(train_seconds / max(1, cfg.epochs - initial_epoch), 2),
        "train_images": len(data.x_fit),
        "font_digit_images": data.extra.get(FONT, 0),
        "other_writer_images": {k: n for k, n in data.extra.items() if k != FONT},
        "other_writers_held_out": dict(HELD_OUT),  # the writers no run trains on, in words
        "validation": cfg.validation,
        "validation_images": len(data.x_val),
        "data": str(mnist.source),
        "distribute": {"mode": place.mode, "replicas": place.replicas, "global_batch_size": global_batch,
                       "learning_rate": learning_rate, "workers": place.cluster.size if place.cluster else 1,
                       "chief": place.is_chief},
    }
    test = evaluate(model, mnist.x_test, mnist.y_test)
    return write_artifacts(target, cfg, model, history, test, facts)


def _log_plan(cfg: TrainConfig, target: rd.RunTarget, data: TrainingSet, model: Any, place: Placement,
              scaled_to: tuple[int, float], initial_epoch: int, log: Log) -> None:
    """The lines a user reads before the first epoch: the model, the images, where it all goes."""
    from cnn_edge.trainer.models import summary_text

    if cfg.resume:
        log(f"Resuming {target.path} after epoch {initial_epoch} of {cfg.epochs}")
    log(summary_text(model))
    replacing = " (replaced when this run is complete)" if target.staged else ""
    log(f"Training on {data.describe()}, validating on {len(data.x_val)} ({cfg.validation}); "
        f"run directory {target.path}{replacing}")
    if place.mode != "none":
        task = place.cluster
        role = "" if task is None else f"; this is {task.task_type} {task.task_index}"
        log(f"{place.mode}: {place.replicas} replica(s), global batch {scaled_to[0]}, "
            f"learning rate {scaled_to[1]:g}{role}")
    if cfg.augment is not None:
        log(f"Augmenting the training images on the fly: preset {cfg.augment!r}")


def _fit(cfg: TrainConfig, target: rd.RunTarget, data: TrainingSet, model: Any, place: Placement,
         batching: tuple[int, int], resumed: tuple[int, dict[str, list[float]]], watchdog: Watchdog,
         log: Log) -> None:
    """The epochs, with a checkpoint after each; an interruption or a broken cluster is one line."""
    import tensorflow as tf

    from cnn_edge.trainer.datasets import training_dataset
    from cnn_edge.trainer.loop import run_epochs

    (global_batch, steps), (initial_epoch, history) = batching, resumed
    pat = (lambda: watchdog.pat("a training step of the cluster")) if place.cluster else (lambda: None)
    try:
        with sigterm_raises(_Terminated) as terminated, sigint_recorded() as interrupted:

            def after_step() -> None:
                pat()
                # A signal whose exception a `__del__` swallowed (see `sigint_recorded`).
                if interrupted:
                    raise KeyboardInterrupt
                if terminated:
                    raise _Terminated

            pat()
            run_epochs(
                place.strategy, model,
                lambda epoch: training_dataset(data.x_fit, data.y_fit, cfg, epoch, global_batch),
                steps=steps, epochs=cfg.epochs, initial_epoch=initial_epoch,
                validation=(data.x_val, data.y_val),
                on_epoch_end=checkpoint_writer(target.work, cfg, history, model),
                on_step=after_step, verbose=cfg.verbose, log=log,
            )
    except (KeyboardInterrupt, _Terminated) as exc:
        raise _interrupted(cfg, target, history, 130 if isinstance(exc, KeyboardInterrupt) else 143) from None
    except tf.errors.OpError as exc:
        if place.cluster is None:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClusterError(
            f"the cluster broke during training ({type(exc).__name__}: {first})",
            hint="restart every worker with --resume to continue from the last epoch",
        ) from None


def _interrupted(cfg: TrainConfig, target: rd.RunTarget, history: dict[str, list[float]],
                 code: int) -> Interrupted:
    """What a user is told after Ctrl-C or SIGTERM: what was kept, and how to go on."""
    if target.staged:
        return Interrupted(f"training interrupted; {target.path} is left as it was (the unfinished "
                           "replacement was discarded)", exit_code=code)
    done = len(history.get("loss", []))
    kept = target.work / rd.CHECKPOINT
    saved = f"checkpoint of epoch {done} kept in {kept}" if done else "no epoch had finished"
    return Interrupted(
        f"training interrupted ({saved})",
        exit_code=code,
        hint=f"continue with `cnn-edge train --out {cfg.out or target.path} --resume`" if done else None,
    )
