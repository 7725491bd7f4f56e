"""Folders of images: which files count as images, and the samples folder format.

One reader for every command that takes "a folder of digit photos" (`infer`, `evaluate --data`,
`benchmark --photos`, `convert --calibration-data`), so they agree on what is in it.

The samples format, written by `cnn-edge collect` and read by `finetune`, `evaluate --data` and
`benchmark --photos` (the layout Keras' `image_dataset_from_directory` reads):

    DIR/0/<stem>.png           a photo or camera crop of a 0 (any image extension)
    DIR/0/<stem>.28x28.png     the 28x28 input the runtime made of it (its "twin")
    ...
    DIR/9/...

A twin is the same sample as its photo: a reader of photos leaves it out, or it would count
every sample twice.
"""

from __future__ import annotations

from pathlib import Path

# File name extensions OpenCV's imread can decode (a file named on the command line is tried
# whatever its extension; a folder is searched for these).
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm",
     ".pnm", ".pxm", ".sr", ".ras", ".jp2", ".exr", ".hdr", ".pic", ".avif"}
)
# Photo formats OpenCV cannot decode that a folder of phone photos often holds (an iPhone's
# default is HEIC): a folder of only these is named as such, with what to do.
UNDECODABLE_PHOTO_EXTENSIONS = frozenset({".heic", ".heif"})
CLASSES = tuple(str(d) for d in range(10))
# The 28x28 input saved beside each sample: `<stem>.28x28.png` next to `<stem>.png`/`.jpg`.
INPUT_SUFFIX = ".28x28.png"


def is_image_file(path: Path) -> bool:
    """A regular file (not a folder, device or FIFO) with an image file name extension.

    A listed file that cannot be stat-ed (no permission, name too long) counts: reading it
    then reports why, as that one file's error, rather than the whole folder failing.
    """
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return False
    try:
        return path.is_file()
    except OSError:
        return True


def sample_stem(path: Path) -> str:
    """The sample a file belongs to: `a.png` and its twin `a.28x28.png` are both sample `a`."""
    return path.name[: -len(INPUT_SUFFIX)] if path.name.endswith(INPUT_SUFFIX) else path.stem


def is_twin(path: Path) -> bool:
    """Whether `path` is a sample's 28x28 twin (`<stem>.28x28.png`)."""
    return path.name.endswith(INPUT_SUFFIX)


def image_files(folder: Path) -> list[Path]:
    """The images directly in `folder`, sorted; a twin is left out when its photo is there too."""
    found = sorted(p for p in Path(folder).iterdir() if is_image_file(p))
    photos = {p.stem for p in found if not is_twin(p)}
    return [p for p in found if not (is_twin(p) and sample_stem(p) in photos)]


def labelled_images(root: Path) -> list[tuple[Path, int]]:
    """(image, digit) for the images of `root/0` ... `root/9`, in class then name order."""
    root = Path(root)
    return [(p, int(c)) for c in CLASSES if (root / c).is_dir() for p in image_files(root / c)]


def undecodable_photos(folder: Path) -> list[Path]:
    """The files directly in `folder` that are phone photos OpenCV cannot decode (HEIC/HEIF), sorted."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in UNDECODABLE_PHOTO_EXTENSIONS)


def labelled_undecodable(root: Path) -> list[Path]:
    """The HEIC/HEIF photos in `root/0` ... `root/9`: left out by `labelled_images`, named by callers."""
    root = Path(root)
    return [p for c in CLASSES if (root / c).is_dir() for p in undecodable_photos(root / c)]
