"""An image's width and height read from its header, so a decompression bomb is refused unread.

A 10 kB PNG, JPEG or WebP can claim 32000x32000 pixels; OpenCV then allocates the whole
bitmap (6-12 GB measured) before it finds anything wrong. A Raspberry Pi has 1-8 GB. The
header of every common format states the size in its first bytes: PNG's IHDR, JPEG's SOFn
marker, WebP's VP8/VP8L/VP8X chunk, BMP's DIB header, TIFF's first IFD, PNM's text header.
Formats not parsed here are still bounded by OpenCV's own OPENCV_IO_MAX_IMAGE_PIXELS, which
`cnn_edge/__init__.py` sets to the same limit before cv2 can be imported.

The header also says which way up the picture is meant to be seen (`exif_orientation`): a phone
held upright stores its sensor's landscape pixels and an EXIF tag saying "turn me a quarter".
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

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
    for marker, pos, _length in _jpeg_segments(data):
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # SOFn
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
    return None


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, position of its 0xFF, length field) of each segment up to the image data (SOS)."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD9)):  # markers without a length
            pos += 2
            continue
        if marker == 0xDA:  # start of scan: compressed data follows, no more headers
            return
        (length,) = struct.unpack_from(">H", data, pos + 2)
        yield marker, pos, length
        pos += 2 + length


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


# ------------------------------------------------------------------------------------------------
# EXIF orientation
# ------------------------------------------------------------------------------------------------

ORIENTATION_TAG = 0x0112
UPRIGHT = 1  # EXIF orientation 1: the pixels are stored the way up they are meant to be seen


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation (1-8) a JPEG, PNG or WebP asks for; 1 when it has none or it is damaged.

    OpenCV applies it only when it converts the pixels (IMREAD_COLOR, IMREAD_GRAYSCALE); decoding
    them as stored (IMREAD_UNCHANGED, which keeps alpha and 16 bits) ignores it. TIFF is left
    out on purpose: OpenCV's TIFF decoder turns the picture by the TIFF tag itself.
    """
    try:
        block = _exif_block(data)
        value = _tiff_orientation(block) if block else UPRIGHT
    except (struct.error, ValueError, IndexError):
        return UPRIGHT  # a damaged EXIF block: show the pixels as stored
    return value if 1 <= value <= 8 else UPRIGHT


def _exif_block(data: bytes) -> bytes | None:
    """The TIFF-structured EXIF block of a JPEG (APP1), PNG (eXIf) or WebP (EXIF chunk)."""
    if data.startswith(b"\xff\xd8"):
        for marker, pos, length in _jpeg_segments(data):
            payload = data[pos + 4:pos + 2 + length]
            if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
                return payload[6:]
        return None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _chunk(data, 8, b"eXIf", ">", chunk_tail=4)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        block = _chunk(data, 12, b"EXIF", "<", length_first=False)
        return block[6:] if block is not None and block.startswith(b"Exif\x00\x00") else block
    return None


def _chunk(data: bytes, pos: int, name: bytes, order: str, length_first: bool = True,
           chunk_tail: int = 0) -> bytes | None:
    """The payload of the first chunk called `name` (PNG: length, type, data, CRC; RIFF: type,
    length, data padded to an even size)."""
    while pos + 8 <= len(data):
        if length_first:
            (length,), kind = struct.unpack_from(order + "I", data, pos), data[pos + 4:pos + 8]
        else:
            kind, (length,) = data[pos:pos + 4], struct.unpack_from(order + "I", data, pos + 4)
        if kind == name:
            return data[pos + 8:pos + 8 + length]
        pos += 8 + length + chunk_tail + (0 if length_first else length & 1)
    return None


def _tiff_orientation(block: bytes) -> int:
    """Tag 0x0112 (a SHORT) of the first IFD of a TIFF-structured block; 1 when it is absent."""
    order = {b"II": "<", b"MM": ">"}.get(block[:2])
    if order is None:
        return UPRIGHT
    (ifd,) = struct.unpack_from(order + "I", block, 4)
    (count,) = struct.unpack_from(order + "H", block, ifd)
    for i in range(min(count, 1000)):
        tag, kind, _, value = struct.unpack_from(order + "HHI2s", block, ifd + 2 + 12 * i)
        if tag == ORIENTATION_TAG and kind == 3:
            return struct.unpack(order + "H", value)[0]
    return UPRIGHT
