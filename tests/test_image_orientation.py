"""Photos are read the way up their EXIF orientation says, in every format that carries one."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_edge.edge_runtime.image_header import exif_orientation
from cnn_edge.edge_runtime.images import decode_image, upright

from .image_bytes import jpeg_with, oriented_by_opencv, png_with, tiff_block, tiff_with, webp_with


def _picture(h: int = 40, w: int = 64) -> np.ndarray:
    """A picture no flip or turn leaves unchanged (random pixels, non-square)."""
    return np.random.default_rng(7).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("order", ["MM", "II"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_orientation_matches_opencvs_own(orientation: int, order: str) -> None:
    """Decoding as stored (to keep alpha and 16 bits) must still end as OpenCV orients it."""
    data = jpeg_with(_picture(), orientation, order)
    assert exif_orientation(data) == orientation
    assert np.array_equal(decode_image(data), oriented_by_opencv(data))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_png_and_webp_orientation_matches_opencvs_own(orientation: int) -> None:
    for data in (png_with(_picture(), orientation), webp_with(_picture(), orientation)):
        assert exif_orientation(data) == orientation
        assert np.array_equal(decode_image(data), oriented_by_opencv(data))


def test_png_with_alpha_is_turned_and_composited() -> None:
    """A transparent PNG keeps its alpha handling (decoded as stored) and is turned as well."""
    picture = _picture()
    rgba = np.dstack([picture, np.full(picture.shape[:2], 255, np.uint8)])
    turned = decode_image(png_with(rgba, 6))
    assert np.array_equal(turned, np.rot90(picture, k=-1))  # a quarter turn clockwise


def test_tiff_is_turned_once() -> None:
    """OpenCV's TIFF decoder applies the TIFF tag itself: it must not be applied a second time."""
    data = tiff_with(_picture(), 6)
    assert exif_orientation(data) == 1  # left to the decoder
    assert np.array_equal(decode_image(data), oriented_by_opencv(data))
    assert decode_image(data).shape[:2] == (64, 40)


def test_upright_is_the_exif_meaning() -> None:
    """Orientation 6 is stored a quarter turn anticlockwise; 8 clockwise; 5 and 7 mirror too."""
    a = np.arange(6).reshape(2, 3)
    assert np.array_equal(upright(a, 1), a)
    assert np.array_equal(upright(a, 6), np.rot90(a, k=-1))
    assert np.array_equal(upright(a, 8), np.rot90(a, k=1))
    assert np.array_equal(upright(a, 3), np.rot90(a, k=2))
    assert np.array_equal(upright(a, 2), a[:, ::-1])
    assert np.array_equal(upright(a, 4), a[::-1])
    assert np.array_equal(upright(a, 5), a.T)
    assert np.array_equal(upright(a, 7), np.rot90(a, k=2).T)


@pytest.mark.parametrize("block", [
    b"",  # an empty Exif segment
    b"MM\x00*\x00\x00\xff\xff",  # IFD offset past the end
    b"XX\x00*\x00\x00\x00\x08",  # no byte order mark
    tiff_block(9),  # no such orientation
    tiff_block(6, kind=4),  # orientation stored as a LONG: not what EXIF says, ignored
    tiff_block(6)[:14],  # cut inside the IFD entry
])
def test_damaged_exif_leaves_the_pixels_as_stored(block: bytes) -> None:
    picture = _picture()
    data = jpeg_with(picture, 1, block=block)
    assert exif_orientation(data) == 1
    assert decode_image(data).shape == picture.shape


def test_files_without_exif_are_as_stored() -> None:
    import cv2

    picture = _picture()
    for ext in (".jpg", ".png", ".webp", ".bmp"):
        data = cv2.imencode(ext, picture)[1].tobytes()
        assert exif_orientation(data) == 1, ext
        assert decode_image(data).shape == picture.shape, ext
