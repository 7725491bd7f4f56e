"""An image's width and height read from its header, so a decompression bomb is refused unread.

A 10 kB PNG, JPEG or WebP can claim 32000x32000 pixels; OpenCV then allocates the whole
bitmap (6-12 GB measured) before it finds anything wrong. A Raspberry Pi has 1-8 GB. The
header of every common format states the size in its first bytes: PNG's IHDR, JPEG's SOFn
marker, WebP's VP8/VP8L/VP8X chunk, BMP's DIB header, TIFF's first IFD, PNM's text header.
Formats not parsed here are still bounded by OpenCV's own OPENCV_IO_MAX_IMAGE_PIXELS, which
`cnn_edge/__init__.py` sets to the same limit before cv2 can be imported.
"""

from __future__ import annotations

import os
import struct

from cnn_edge.common.limits import MAX_IMAGE_PIXELS as DEFAULT_MAX_PIXELS
from cnn_edge.common.limits import MAX_IMAGE_PIXELS_ENV as MAX_PIXELS_ENV


def max_pixels() -> int:
    """The pixel limit in force: $CNN_EDGE_MAX_IMAGE_PIXELS if it is a positive integer, else 50 MP."""
    try:
        value = int(os.environ.get(MAX_PIXELS_ENV, ""))
    except ValueError:
        return DEFAULT_MAX_PIXELS
    return value if value > 0 else DEFAULT_MAX_PIXELS


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) the header claims, or None for a format (or damage) not parsed here."""
    try:
        for magic, reader in _READERS:
            if data.startswith(magic):
                return reader(data)
    except (struct.error, ValueError, IndexError):
        return None  # a header too short to hold a size: the decoder reports the damage
    return None


def _png(data: bytes) -> tuple[int, int]:
    return struct.unpack_from(">II", data, 16)


def _jpeg(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD9)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # SOFn
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
        pos += 2 + length
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    if data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        (bits,) = struct.unpack_from("<I", data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _bmp(data: bytes) -> tuple[int, int]:
    (header_size,) = struct.unpack_from("<I", data, 14)
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack_from("<hh", data, 18)
    else:
        width, height = struct.unpack_from("<ii", data, 18)
    return abs(width), abs(height)


def _tiff(data: bytes) -> tuple[int, int] | None:
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, ifd)
    found: dict[int, int] = {}
    for i in range(min(count, 1000)):
        tag, kind, _, value = struct.unpack_from(order + "HHI4s", data, ifd + 2 + 12 * i)
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG, stored in the entry
            found[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), value)[0]
    if 256 in found and 257 in found:
        return found[256], found[257]
    return None


def _pnm(data: bytes) -> tuple[int, int] | None:
    tokens: list[int] = []
    for line in data[2:4096].split(b"\n"):
        for word in line.split(b"#", 1)[0].split():
            tokens.append(int(word))
            if len(tokens) == 2:
                return tokens[0], tokens[1]
    return None


_READERS = [
    (b"\x89PNG\r\n\x1a\n", _png),
    (b"\xff\xd8", _jpeg),
    (b"RIFF", _webp),
    (b"BM", _bmp),
    (b"II*\x00", _tiff),
    (b"MM\x00*", _tiff),
    *((b"P%d" % n, _pnm) for n in range(1, 7)),
]
