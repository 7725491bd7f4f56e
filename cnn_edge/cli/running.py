"""How a command runs: the project's errors as one line and an exit code, SIGTERM as Ctrl-C."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import typer

from cnn_edge.cli.render import err
from cnn_edge.common.errors import CnnEdgeError


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the project's errors into one clear line and their exit code; Ctrl-C into 130."""
    try:
        yield
    except CnnEdgeError as exc:
        err(f"error: {str(exc).strip() or type(exc).__name__}")  # never an empty line
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err("interrupted")
        raise typer.Exit(130) from None


def usage_error(message: str) -> typer.Exit:
    """A command line that cannot run as given: one line, exit 2 (raise what this returns)."""
    err(f"error: {message}")
    return typer.Exit(2)


def given(**options: Any) -> dict[str, Any]:
    """The options the user gave (not None): the library's config owns every other default."""
    return {name: value for name, value in options.items() if value is not None}
