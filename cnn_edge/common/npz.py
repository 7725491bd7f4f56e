"""Why an .npz file could not be read, said about the file rather than about numpy's internals."""

from __future__ import annotations


def npz_problem(exc: BaseException) -> str:
    """One short phrase for an exception raised by `np.load(path, allow_pickle=False)`."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, EOFError):
        return "the file is empty"
    if isinstance(exc, ValueError) and "pickle" in text:
        # np.load falls back to unpickling any bytes that are neither a zip (.npz) nor a .npy.
        return "not an .npz file: neither a zip archive nor a .npy array"
    return text
