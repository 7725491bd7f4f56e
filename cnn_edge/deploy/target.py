"""`--to USER@HOST[:PATH]`: which device, and which folder on it.

The folder is checked here, before anything connects: no '..' parts (a deploy stays inside the
folder the user chose), no control characters, and `~/` means the remote home (where ssh starts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from cnn_edge.common.errors import ConfigError

DEFAULT_PARENT = "cnn-edge"


@dataclass(frozen=True)
class Target:
    """An SSH destination (USER@HOST, HOST, or an ~/.ssh/config alias) and a folder on it."""

    destination: str
    path: str  # relative paths are relative to the remote home

    def __str__(self) -> str:
        return f"{self.destination}:{self.path}"


def parse_target(to: str, run_name: str) -> Target:
    """Split USER@HOST[:PATH]; PATH defaults to cnn-edge/RUN_NAME in the remote home."""
    text = to.strip()
    if text.startswith("[") and "]" in text:  # [IPv6]:path
        end = text.index("]")
        destination, rest = text[1:end], text[end + 1 :]
        path = rest[1:] if rest.startswith(":") else rest
    else:
        destination, _, path = text.partition(":")
    if not destination or destination.startswith("-") or re.search(r"\s", destination):
        raise ConfigError(
            f"--to {to!r} does not name a device", hint="use USER@HOST[:PATH], e.g. pi@raspberrypi.local"
        )
    return Target(destination=destination, path=check_remote_path(path or f"{DEFAULT_PARENT}/{run_name}"))


def check_remote_path(path: str) -> str:
    """The remote folder, normalised; '~/' (or '~') becomes relative to the remote home."""
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ConfigError("the remote folder contains a control character", hint="choose a plain folder name")
    if path == "~" or path.startswith("~/"):
        path = path[2:] or "."
    elif path.startswith("~"):
        raise ConfigError(
            f"remote folder {path!r}: another user's home (~user) is not supported",
            hint="give the full path instead",
        )
    parts = PurePosixPath(path).parts
    if ".." in parts:
        raise ConfigError(
            f"remote folder {path!r} contains '..'",
            hint="give the folder itself; the bundle never leaves the folder you choose",
        )
    clean = str(PurePosixPath(*parts)) if parts else "."
    if clean == "/":
        raise ConfigError(
            "the remote folder cannot be / itself", hint="choose a folder such as ~/cnn-edge/RUN"
        )
    return clean
