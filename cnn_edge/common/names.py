"""File names as text that any terminal, log or JSON encoder accepts.

On Linux a file name is bytes; Python maps the bytes that are not UTF-8 to lone surrogates,
which a strict UTF-8 stdout (a Pi's en_GB.UTF-8, or PYTHONIOENCODING=utf-8) refuses to print:
one such name would abort a whole run. Shown names escape those bytes (`\\xff`) instead.
"""

from __future__ import annotations

import os


def printable(path: str | os.PathLike[str]) -> str:
    """`path` as text with undecodable bytes shown as backslash escapes; unchanged when it is UTF-8."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
