"""The `cnn-edge` command line: parse options, call one library function, print the result.

Heavy libraries (TensorFlow, LiteRT, OpenCV) are imported inside the commands, never at
module level, so `cnn-edge --help` is fast on a Raspberry Pi.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from cnn_edge.errors import CnnEdgeError

app = typer.Typer(
    name="cnn-edge",
    help="Train the MNIST CNN, convert it to int8 TFLite, and run it on a Raspberry Pi.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def err(message: str) -> None:
    """One line on stderr."""
    typer.echo(message, err=True)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the project's errors into one clear line and their exit code; Ctrl-C into 130."""
    try:
        yield
    except CnnEdgeError as exc:
        err(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err("interrupted")
        raise typer.Exit(130) from None


def _version(value: bool) -> None:
    if value:
        from cnn_edge import __version__

        typer.echo(f"cnn-edge {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit")
    ] = False,
) -> None:
    """Train the MNIST CNN, convert it to int8 TFLite, and run it on a Raspberry Pi."""


@app.command()
def train(
    out: Annotated[Optional[Path], typer.Option(help="Run directory [default: first free runs/train, runs/train2, ...]")] = None,
    arch: Annotated[str, typer.Option(help="cnn (the seed CNN) or softmax (regression baseline)")] = "cnn",
    hidden_units: Annotated[int, typer.Option(help="Units of the CNN's dense layer (the seed's variants: 128, 1024)")] = 128,
    epochs: Annotated[int, typer.Option(help="Passes over the training images")] = 10,
    batch_size: Annotated[int, typer.Option(help="Images per Adam step")] = 128,
    learning_rate: Annotated[float, typer.Option(help="Adam learning rate")] = 1e-3,
    lr_schedule: Annotated[str, typer.Option(help="cosine (decay to 0 over the run) or constant")] = "cosine",
    data: Annotated[Optional[Path], typer.Option(help="mnist.npz [default: $CNN_EDGE_DATA, then the repository's data/mnist.npz]")] = None,
    train_limit: Annotated[Optional[int], typer.Option(help="Train on the first N images only (quick runs)")] = None,
    validation: Annotated[str, typer.Option(help="holdout (last --validation-size training images) or test")] = "holdout",
    validation_size: Annotated[int, typer.Option(help="Size of the holdout validation slice")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed and data give the same weights)")] = 42,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing run directory")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out from its last complete epoch")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="One line per epoch instead of a progress bar")] = False,
) -> None:
    """Train the MNIST CNN (or the softmax baseline) and write model, curves and metrics."""
    from cnn_edge.trainer import TrainConfig
    from cnn_edge.trainer import train as run_training

    cfg = TrainConfig(
        out=out, arch=arch, hidden_units=hidden_units, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate, lr_schedule=lr_schedule, data=data, train_limit=train_limit, validation=validation,
        validation_size=validation_size, seed=seed, force=force, resume=resume, verbose=2 if quiet else 1,
    )
    with user_errors():
        result = run_training(cfg, log=typer.echo)
    typer.echo(
        f"test accuracy {result.test_accuracy:.2%} (loss {result.test_loss:.4f}), "
        f"{result.params:,} parameters, {result.epochs_run} epochs in {result.train_seconds:.0f} s"
    )
    for name, path in result.artifacts.items():
        typer.echo(f"  {name:<8} {path}")


def main() -> None:  # pragma: no cover - `python -m cnn_edge`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
