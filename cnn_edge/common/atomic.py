"""Write artifacts atomically: to a temporary file beside the target, then rename.

A reader (or a run that was killed half-way) sees either the old file or the complete new
one, never half of it. `os.replace` is atomic on POSIX and Windows within one filesystem,
which is why the temporary file lives in the target's own directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Every temporary file carries this in its name (`.model_int8.tflite.partial-k3j9x2.tflite`): one
# left by a process killed with SIGKILL is recognisable, and `remove_stale_temps` clears it.
TEMP_MARK = ".partial-"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `target`, on failure it is removed.

    `suffix` defaults to the target's own suffix, for writers (Keras, matplotlib) that pick
    the format from the file name.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}{TEMP_MARK}",
        suffix=suffix if suffix is not None else target.suffix,
        dir=target.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600; give the artifact the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def is_temp_name(name: str) -> bool:
    """A temporary file of `atomic_path` (hidden, with the marker in its name)."""
    return name.startswith(".") and TEMP_MARK in name


def remove_stale_temps(folder: str | os.PathLike[str],
                       is_temp: Callable[[str], bool] = is_temp_name) -> list[Path]:
    """Delete the temporary files (`is_temp` of the name) a killed writer left in `folder`; return them.

    Call it only where no other process is writing into `folder` (a run being converted or
    resumed): a live writer's temporary file would be removed too.
    """
    removed = []
    with contextlib.suppress(OSError):
        for entry in Path(folder).iterdir():
            if is_temp(entry.name) and entry.is_file() and not entry.is_symlink():
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `target` atomically and return the target path."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(target)


def write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 `text` to `target` atomically."""
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: str | os.PathLike[str], obj: Any) -> Path:
    """Write `obj` as indented JSON (with a trailing newline) atomically."""
    return write_text(target, json.dumps(obj, indent=2, sort_keys=False) + "\n")


class StagedFiles:
    """Several artifacts written to temporary files first, renamed into place together at the end.

    `path(target)` gives the temporary file to write for `target`; `commit()` renames them all
    in the order they were asked for; leaving the `with` block without committing (an error,
    Ctrl-C) deletes them. Nothing replaces an old file until every new one is complete, so a
    run killed while writing keeps its old files, all of the same generation.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def path(self, target: str | os.PathLike[str], suffix: str | None = None) -> Path:
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}{TEMP_MARK}",
                                    suffix=suffix if suffix is not None else target.suffix, dir=target.parent)
        os.close(fd)
        self._pending.append((Path(name), target))
        return Path(name)

    def commit(self) -> list[Path]:
        """Rename every temporary file onto its target; return the targets."""
        done = []
        for tmp, target in self._pending:
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
            done.append(target)
        self._pending = []
        return done

    def discard(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._pending = []

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
