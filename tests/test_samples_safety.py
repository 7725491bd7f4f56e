"""Samples folders that once lost a sample, warned, or misreported a link (issue 17 part A)."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from cnn_edge.common.errors import DataError
from cnn_edge.finetune.samples import load_samples

from .conftest import MNIST


def paper_photo(k: int) -> np.ndarray:
    """MNIST test digit k as dark ink on light paper, 84x84 (what a photo of it looks like)."""
    with np.load(MNIST) as npz:
        digit = npz["x_test"][k]
    big = cv2.resize(digit, (56, 56), interpolation=cv2.INTER_LINEAR)
    page = np.full((84, 84), 235, np.uint8)
    page[14:70, 14:70] = 235 - (big.astype(np.int32) * 215 // 255)
    return page


def test_two_photos_with_one_name_are_both_samples(tmp_path):
    (tmp_path / "7").mkdir()
    cv2.imwrite(str(tmp_path / "7" / "s0.png"), paper_photo(0))
    cv2.imwrite(str(tmp_path / "7" / "s0.jpg"), paper_photo(17))
    samples = load_samples(tmp_path)
    assert sorted(p.name for p in samples.files) == ["s0.jpg", "s0.png"]
    assert samples.counts["7"] == 2


def test_a_28x28_beside_two_same_named_photos_is_not_guessed(tmp_path):
    (tmp_path / "7").mkdir()
    cv2.imwrite(str(tmp_path / "7" / "s0.png"), paper_photo(0))
    cv2.imwrite(str(tmp_path / "7" / "s0.jpg"), paper_photo(17))
    cv2.imwrite(str(tmp_path / "7" / "s0.28x28.png"), np.zeros((28, 28), np.uint8))
    logged: list[str] = []
    samples = load_samples(tmp_path, logged.append)
    assert sorted(p.name for p in samples.files) == ["s0.jpg", "s0.png"]
    assert any("s0.28x28.png is ignored: 2 photos share its name" in line for line in logged), logged


def test_a_collected_pair_is_still_one_sample(tmp_path):
    (tmp_path / "7").mkdir()
    cv2.imwrite(str(tmp_path / "7" / "s0.jpg"), paper_photo(0))
    cv2.imwrite(str(tmp_path / "7" / "s0.28x28.png"), np.full((28, 28), 9, np.uint8))
    samples = load_samples(tmp_path)
    assert [p.name for p in samples.files] == ["s0.28x28.png"] and samples.images[0].max() == 9


def test_float64_tiff_with_huge_and_infinite_pixels_warns_nothing(tmp_path):
    (tmp_path / "3").mkdir()
    page = paper_photo(18).astype(np.float64) / 255.0
    page[0, 0], page[0, 1], page[1, 0] = np.inf, 1e300, np.nan
    assert cv2.imwrite(str(tmp_path / "3" / "x.tiff"), page)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning fails the test
        samples = load_samples(tmp_path)
    assert samples.counts["3"] + len(samples.no_digit) == 1


@pytest.mark.parametrize("where", ["file", "class", "folder"])
def test_symlink_loop_is_named_as_a_loop(tmp_path, where):
    root = tmp_path / "samples"
    (root / "3").mkdir(parents=True)
    cv2.imwrite(str(root / "3" / "ok.png"), paper_photo(18))
    if where == "file":
        (root / "3" / "a.png").symlink_to("b.png")
        (root / "3" / "b.png").symlink_to("a.png")
        target = root
    elif where == "class":
        (root / "4").symlink_to("4")
        target = root
    else:
        (tmp_path / "loop").symlink_to("loop")
        target = tmp_path / "loop"
    with pytest.raises(DataError, match="symbolic link that loops back on itself"):
        load_samples(target)


def test_a_non_utf8_file_name_is_a_sample_not_a_crash(tmp_path):
    # A camera card's Latin-1 name ("café.png" as bytes): str(path) holds a surrogate, which
    # .encode() refused (UnicodeEncodeError in any locale) while hashing the samples.
    (tmp_path / "3").mkdir()
    name = b"caf\xe9.png"
    ok, png = cv2.imencode(".png", paper_photo(18))
    assert ok
    with open(bytes(tmp_path / "3") + b"/" + name, "wb") as f:
        f.write(png.tobytes())
    samples = load_samples(tmp_path)
    assert samples.counts["3"] == 1 and samples.files[0].name == "caf\udce9.png"
    assert load_samples(tmp_path).sha256 == samples.sha256  # still a stable fingerprint


def test_heic_samples_are_named_not_silently_left_out(tmp_path):
    from .image_bytes import HEIC

    (tmp_path / "7").mkdir()
    cv2.imwrite(str(tmp_path / "7" / "s0.png"), paper_photo(0))
    (tmp_path / "7" / "IMG_0001.HEIC").write_bytes(HEIC)
    logged: list[str] = []
    samples = load_samples(tmp_path, logged.append)
    assert [p.name for p in samples.files] == ["s0.png"]
    assert any("1 HEIC photos are left out" in line and "IMG_0001.HEIC" in line for line in logged), logged
