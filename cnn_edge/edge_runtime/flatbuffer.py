"""A minimal, bounds-checked reader of FlatBuffers tables, enough to inspect a .tflite header.

The TFLite interpreter trusts the file it is given: one flipped bit in a tensor's type byte
makes it free an invalid pointer or segfault. Python can't catch that, so the few fields the
runtime relies on are read here first, over the raw bytes, with every offset checked against
the buffer (no TensorFlow, no generated schema code). Any offset out of range is a
`FlatbufferError`, never an IndexError or a wrong value read from elsewhere.
"""

from __future__ import annotations

import struct


class FlatbufferError(ValueError):
    """The bytes are not a well-formed FlatBuffer where the reader looked."""


class Table:
    """One FlatBuffers table at `pos` in `buf`; fields are read by their index in the schema."""

    __slots__ = ("buf", "pos", "_vtable", "_vt_len")

    def __init__(self, buf: bytes | memoryview, pos: int) -> None:
        self.buf = buf
        self.pos = pos
        vtable = pos - _read(buf, "<i", pos)
        vt_len = _read(buf, "<H", vtable)
        if vt_len < 4 or vt_len % 2:
            raise FlatbufferError(f"bad vtable size {vt_len} at {vtable}")
        _check(buf, vtable, vt_len)
        self._vtable = vtable
        self._vt_len = vt_len

    def _field(self, index: int) -> int | None:
        """Absolute position of field `index`, or None when the field is absent (its default)."""
        slot = 4 + 2 * index
        if slot + 2 > self._vt_len:
            return None
        offset = _read(self.buf, "<H", self._vtable + slot)
        return self.pos + offset if offset else None

    def scalar(self, index: int, fmt: str, default: int) -> int:
        pos = self._field(index)
        return default if pos is None else _read(self.buf, fmt, pos)

    def table(self, index: int) -> Table | None:
        pos = self._field(index)
        return None if pos is None else Table(self.buf, pos + _read(self.buf, "<I", pos))

    def vector(self, index: int) -> tuple[int, int] | None:
        """(start of the elements, element count) of a vector field, or None when absent."""
        pos = self._field(index)
        if pos is None:
            return None
        vec = pos + _read(self.buf, "<I", pos)
        return vec + 4, _read(self.buf, "<I", vec)

    def ints(self, index: int) -> list[int] | None:
        """A vector of int32 (a shape, a list of tensor indices); None when absent."""
        vec = self.vector(index)
        if vec is None:
            return None
        start, count = vec
        _check(self.buf, start, 4 * count)
        return list(struct.unpack_from(f"<{count}i", self.buf, start))

    def tables(self, index: int) -> list[Table]:
        """A vector of tables; empty when absent."""
        vec = self.vector(index)
        if vec is None:
            return []
        start, count = vec
        _check(self.buf, start, 4 * count)
        out = []
        for i in range(count):
            elem = start + 4 * i
            out.append(Table(self.buf, elem + _read(self.buf, "<I", elem)))
        return out

    def length(self, index: int) -> int:
        """Element count of a vector field (0 when absent), without reading the elements."""
        vec = self.vector(index)
        return 0 if vec is None else vec[1]


def root(buf: bytes | memoryview) -> Table:
    """The root table of a FlatBuffer."""
    return Table(buf, _read(buf, "<I", 0))


def _check(buf: bytes | memoryview, pos: int, size: int) -> None:
    if pos < 0 or size < 0 or pos + size > len(buf):
        raise FlatbufferError(f"offset {pos} (+{size}) outside the {len(buf)}-byte file")


def _read(buf: bytes | memoryview, fmt: str, pos: int) -> int:
    _check(buf, pos, struct.calcsize(fmt))
    return struct.unpack_from(fmt, buf, pos)[0]
