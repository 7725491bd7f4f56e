"""Load any image file a user may point at into a uint8 grey or BGR array.

OpenCV decodes PNG, JPEG (including Adobe CMYK JPEGs, which it converts to BGR), BMP, TIFF,
WebP...; this module adds what `cv2.imread` gets wrong or silently accepts:
- 16-bit and float images are scaled to 8 bits instead of being clipped;
- an alpha channel is composited over a background that contrasts with the ink, so a digit
  drawn on a transparent canvas does not vanish into black;
- truncated files are errors, not half-grey pictures (libjpeg "decodes" a cut JPEG);
- a photo is turned the way its EXIF orientation says (decoding pixels as stored ignores it);
- every failure is an `ImageError` with one line, never a `None` travelling onward.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from cnn_edge.common.errors import ImageError
from cnn_edge.common.names import printable
from cnn_edge.common.quiet import native_stderr_silenced
from cnn_edge.edge_runtime.image_header import MAX_PIXELS_ENV, exif_orientation, image_size, max_pixels

# Refuse absurd images before decoding them (a 1 GB bitmap would exhaust a Pi's memory).
MAX_FILE_BYTES = 200 * 1024 * 1024

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8"


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file into uint8, shape (H, W) grey or (H, W, 3) BGR; `ImageError` if broken."""
    path = Path(path)
    name = printable(path)
    try:
        data = _read_regular_file(path, name)
    except ImageError:
        raise
    except IsADirectoryError:
        raise ImageError(f"{name}: is a directory") from None
    except OSError as exc:
        raise ImageError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return decode_image(data, name=name)


def _read_regular_file(path: Path, name: str) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES.

    A `.png` symlink to /dev/zero has size 0 and never ends; a FIFO blocks `open` forever.
    So: stat through the links first, then open without blocking and check the opened file
    again (it may have been swapped in between), and never read more than the limit.
    """
    if not stat.S_ISREG(path.stat().st_mode):
        raise ImageError(f"{name}: not a regular file (a device, FIFO or socket?)")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"{name}: not a regular file (a device, FIFO or socket?)")
        if info.st_size > MAX_FILE_BYTES:
            raise ImageError(f"{name}: file too large ({info.st_size / 2**20:.0f} MB)")
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"{name}: file too large (over {MAX_FILE_BYTES // 2**20} MB)")
    return data


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode encoded image bytes (see `load_image`)."""
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes)")
    _check_not_truncated(data, name)
    _check_pixels(data, name)
    import cv2

    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        # libjpeg/libpng warn on fd 2 about damaged data; we report it ourselves.
        with native_stderr_silenced():
            img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        img = None
    except MemoryError:
        raise ImageError(f"{name}: too large to decode in this machine's memory") from None
    if img is None or img.size == 0:
        container = heif_brand(data)
        if container is not None:
            raise ImageError(f"{name}: this OpenCV cannot decode {container} photos",
                             hint="save or export it as JPEG or PNG (on an iPhone: Settings > Camera > "
                                  "Formats > Most Compatible)")
        raise ImageError(f"{name}: not an image OpenCV can decode (or the file is damaged)")
    return to_uint8_image(upright(img, exif_orientation(data)))


def heif_brand(data: bytes) -> str | None:
    """"HEIC" or "AVIF" when the bytes are an ISO-BMFF image (an iPhone's default photo format)."""
    if data[4:8] != b"ftyp":
        return None
    brands = {data[8:12]} | {data[i:i + 4] for i in range(16, min(len(data), 64), 4)}
    if brands & {b"avif", b"avis"}:
        return "AVIF"
    if brands & {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}:
        return "HEIC"
    return None


def upright(img: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels turned and mirrored the way EXIF `orientation` (1-8) says they are meant to be seen.

    A phone photo taken upright is usually stored sideways with orientation 6; read as stored,
    its digit lies on its side and is read as another digit (or none).
    """
    views = {
        2: lambda a: a[:, ::-1],  # mirrored left-right
        3: lambda a: a[::-1, ::-1],  # upside down
        4: lambda a: a[::-1],  # mirrored top-bottom
        5: lambda a: a.swapaxes(0, 1),  # transposed
        6: lambda a: a.swapaxes(0, 1)[:, ::-1],  # stored a quarter turn anticlockwise: turn clockwise
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],  # transposed across the other diagonal
        8: lambda a: a.swapaxes(0, 1)[::-1],  # stored a quarter turn clockwise: turn anticlockwise
    }
    view = views.get(orientation)
    return img if view is None else np.ascontiguousarray(view(img))


def _check_pixels(data: bytes, name: str) -> None:
    """Refuse an image whose header claims more pixels than the limit, before decoding it."""
    size = image_size(data)
    limit = max_pixels()
    if size is not None and size[0] * size[1] > limit:
        raise ImageError(
            f"{name}: {size[0]}x{size[1]} pixels is more than the {limit / 1e6:g} megapixel limit",
            hint=f"scale the photo down, or raise the limit with {MAX_PIXELS_ENV}=PIXELS",
        )


def _check_not_truncated(data: bytes, name: str) -> None:
    # A cut JPEG decodes "successfully" with its lower part grey; catch it by its missing
    # end-of-image marker (cameras may pad after it, so look at the tail, not the last 2 bytes).
    if data.startswith(_JPEG_MAGIC) and b"\xff\xd9" not in data[-4096:]:
        raise ImageError(f"{name}: truncated JPEG (no end-of-image marker)")
    if data.startswith(_PNG_MAGIC) and b"IEND" not in data[-64:]:
        raise ImageError(f"{name}: truncated PNG (no IEND chunk)")


def to_uint8_image(img: np.ndarray) -> np.ndarray:
    """Any decoded array (1/2/3/4 channels, 8/16-bit or float) -> uint8 grey or BGR."""
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3 and img.shape[2] == 2:  # grey + alpha
        img = _composite(img[:, :, :1], img[:, :, 1])[:, :, 0]
    elif img.ndim == 3 and img.shape[2] == 4:  # BGRA
        img = _composite(img[:, :, :3], img[:, :, 3])
    elif img.ndim == 3 and img.shape[2] > 4:
        img = img[:, :, :3]
    if img.ndim not in (2, 3):
        raise ImageError(f"unsupported image shape {img.shape}")
    return _depth_to_uint8(img)


def _depth_to_uint8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        # Full 16-bit range -> 8 bits; dividing by 257 maps 65535 to exactly 255.
        return (img.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    if img.dtype == np.bool_:
        return img.astype(np.uint8) * 255
    f = np.nan_to_num(img.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if np.issubdtype(img.dtype, np.floating) and f.min() >= 0.0 and f.max() <= 1.0:
        f = f * 255.0  # float images conventionally hold 0..1
    elif f.min() < 0.0 or f.max() > 255.0:
        lo, hi = float(f.min()), float(f.max())
        # Halved first: hi - lo overflows to inf (and the pixels to NaN) near the float's limits.
        f = (f / 2 - lo / 2) * (255.0 / (hi / 2 - lo / 2)) if hi > lo else np.zeros_like(f)
    return np.clip(f + 0.5, 0, 255).astype(np.uint8)


def _composite(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend over white if the visible pixels are dark ink, over black if they are light."""
    color8 = _depth_to_uint8(color).astype(np.float32)
    a = _depth_to_uint8(alpha).astype(np.float32) / 255.0
    visible = a > 0.5
    ink_dark = not visible.any() or color8[visible].mean() < 128
    bg = 255.0 if ink_dark else 0.0
    out = color8 * a[:, :, None] + bg * (1.0 - a[:, :, None])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
