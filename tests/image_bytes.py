"""Image files built byte by byte, for what no OpenCV writer makes: PNG chunks of any kind, the
container of an iPhone's HEIC photo, and an EXIF orientation in a JPEG (APP1), a PNG (eXIf), a WebP
(EXIF chunk of a VP8X file) or a TIFF (its own IFD). A phone held upright stores its sensor's
landscape pixels and says "orientation 6" in EXIF: these let the tests check that every reader
turns the picture upright.
"""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def iso_bmff(major: bytes, *compatible: bytes) -> bytes:
    """The start of an ISO-BMFF file (HEIC, AVIF, MP4): its `ftyp` box naming the brands, an empty `meta`."""
    ftyp = b"ftyp" + major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 4 + len(ftyp)) + ftyp + struct.pack(">I", 16) + b"meta" + bytes(8)


HEIC = iso_bmff(b"heic", b"mif1", b"heic")  # what an iPhone's IMG_0001.HEIC starts with


def tiff_block(orientation: int, order: str = "MM", kind: int = 3) -> bytes:
    """A TIFF-structured EXIF block holding one tag: the orientation (SHORT unless `kind` says)."""
    e = ">" if order == "MM" else "<"
    entry = struct.pack(e + "HHIHH", 0x0112, kind, 1, orientation, 0)
    header = order.encode() + struct.pack(e + "HI", 42, 8)  # byte order, 42, first IFD at 8
    return header + struct.pack(e + "H", 1) + entry + struct.pack(e + "I", 0)


def jpeg_with(image: np.ndarray, orientation: int, order: str = "MM", block: bytes | None = None) -> bytes:
    """`image` as a JPEG whose APP1 Exif segment says `orientation` (or holds `block` as given)."""
    jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    body = b"Exif\x00\x00" + (block if block is not None else tiff_block(orientation, order))
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def png_with(image: np.ndarray, orientation: int) -> bytes:
    """`image` (any depth, alpha kept) as a PNG with an eXIf chunk right after IHDR."""
    png = cv2.imencode(".png", image)[1].tobytes()
    return png[:33] + png_chunk(b"eXIf", tiff_block(orientation)) + png[33:]  # after signature + IHDR


def webp_with(image: np.ndarray, orientation: int) -> bytes:
    """`image` as a lossless WebP in the extended (VP8X) layout, with an EXIF chunk."""
    h, w = image.shape[:2]
    simple = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes()
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x08, 0, 0, 0]) + (w - 1).to_bytes(3, "little") \
        + (h - 1).to_bytes(3, "little")
    body = tiff_block(orientation, "II")
    exif = b"EXIF" + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)
    payload = b"WEBP" + vp8x + simple[12:] + exif
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def tiff_with(image: np.ndarray, orientation: int) -> bytes:
    """`image` as a TIFF whose first IFD gains an Orientation entry (rewritten at the file's end)."""
    tiff = cv2.imencode(".tiff", image)[1].tobytes()
    e = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(e + "I", tiff, 4)
    (count,) = struct.unpack_from(e + "H", tiff, ifd)
    entries = [tiff[ifd + 2 + 12 * i:ifd + 14 + 12 * i] for i in range(count)]
    (next_ifd,) = struct.unpack_from(e + "I", tiff, ifd + 2 + 12 * count)
    entries = [x for x in entries if struct.unpack_from(e + "H", x)[0] != 0x0112]
    entries.append(struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0))
    entries.sort(key=lambda x: struct.unpack_from(e + "H", x)[0])  # TIFF wants tags in order
    start = len(tiff) + (len(tiff) & 1)  # an IFD starts on a word boundary
    out = bytearray(tiff.ljust(start, b"\x00"))
    out += struct.pack(e + "H", len(entries)) + b"".join(entries) + struct.pack(e + "I", next_ifd)
    struct.pack_into(e + "I", out, 4, start)
    return bytes(out)


def oriented_by_opencv(data: bytes) -> np.ndarray:
    """OpenCV's own reading of the file turned by its orientation (IMREAD_COLOR applies it)."""
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
