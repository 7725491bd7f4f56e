"""The `cnn-edge` application: its commands, in the order `--help` lists them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cnn_edge.cli import deploy_commands, device_commands, measure_commands, stage_commands

app = typer.Typer(
    name="cnn-edge",
    help="Train the MNIST CNN, convert it to int8 TFLite, and run it on a Raspberry Pi.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


for command in (
    stage_commands.train, stage_commands.convert, device_commands.infer, measure_commands.evaluate,
    measure_commands.benchmark, device_commands.doctor, deploy_commands.deploy, deploy_commands.bundle,
    device_commands.collect, stage_commands.finetune,
):
    app.command()(command)


def main() -> None:  # pragma: no cover - `python -m cnn_edge`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
