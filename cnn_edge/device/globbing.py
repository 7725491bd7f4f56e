"""`dir/**/*.png` without following symlink loops, and with a bound on the work.

`glob.glob(recursive=True)` follows every symlinked folder: three links pointing back up the
tree make it walk 3^40 paths (it ran past 25 s before it was stopped). Here a recursive
pattern walks each real folder once (by device and inode), so a loop is entered once and
left, and a walk past MAX_ENTRIES entries stops with an error instead of running on.
"""

from __future__ import annotations

import glob
import os
from fnmatch import fnmatchcase
from itertools import islice

# Far more image files than anyone passes in one call; reached only by a runaway pattern.
MAX_ENTRIES = 200_000


class GlobTooLarge(Exception):
    """The pattern's expansion went past MAX_ENTRIES entries."""


def bounded_glob(pattern: str, max_entries: int = MAX_ENTRIES) -> list[str]:
    """Sorted regular files (or links to them) matching `pattern`; `**` matches any folder depth."""
    parts = pattern.split(os.sep)
    if "**" not in parts:
        # Depth is bounded by the pattern itself; only the count needs a bound.
        matches = list(islice(glob.iglob(pattern), max_entries + 1))
        if len(matches) > max_entries:
            raise GlobTooLarge(f"matches more than {max_entries:,} paths")
        return sorted(m for m in matches if os.path.isfile(m))
    fixed = 0
    while fixed < len(parts) and not glob.has_magic(parts[fixed]):
        fixed += 1
    root = os.sep.join(parts[:fixed]) or ("." if not pattern.startswith(os.sep) else os.sep)
    found = [path for path, rel in _walk(root, max_entries) if _match(rel, parts[fixed:])]
    return sorted(found)


def _walk(root: str, max_entries: int):
    """(path, its parts relative to root) for each file under root; each real folder once."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[str, tuple[str, ...]]] = [(root, ())]
    count = 0
    while stack:
        folder, rel = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:
                continue  # reached again through a symlink: a loop, or a second way in
            seen.add((info.st_dev, info.st_ino))
            entries = list(os.scandir(folder))
        except OSError:
            continue  # unreadable or vanished folder: glob skips it too
        for entry in entries:
            count += 1
            if count > max_entries:
                raise GlobTooLarge(f"walks more than {max_entries:,} entries")
            path = entry.path if folder != "." else entry.name
            try:
                if entry.is_dir():
                    stack.append((path, (*rel, entry.name)))
                elif entry.is_file():
                    yield path, (*rel, entry.name)
            except OSError:
                continue


def _match(names: tuple[str, ...], patterns: list[str]) -> bool:
    """Match path parts against pattern parts; `**` takes zero or more parts. Hidden names need a dot."""
    if not patterns:
        return not names
    head, rest = patterns[0], patterns[1:]
    if head == "**":
        if _match(names, rest):
            return True
        return bool(names) and not names[0].startswith(".") and _match(names[1:], patterns)
    if not names or (names[0].startswith(".") and not head.startswith(".")):
        return False
    return fnmatchcase(names[0], head) and _match(names[1:], rest)
