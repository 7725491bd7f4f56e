"""`cnn-edge collect`: gather labelled samples of the user's own digits, one folder per class.

Layout (what Keras' `image_dataset_from_directory` reads, and what `cnn-edge finetune` takes):

    DIR/0/20250101-120301-123_cam0_0001.png          the original crop (camera region or photo)
    DIR/0/20250101-120301-123_cam0_0001.28x28.png    the 28x28 input the runtime made of it
    ...
    DIR/9/...

Each sample is saved twice: the crop, so it can be preprocessed again when preprocessing
changes, and the exact 28x28 input the runtime's `preprocess` made of it at collection time
(`finetune` trains on that). File names carry the time and the source; a sample never
overwrites another (each file is linked into place only if its name is free).

Sources: a camera with a display (a live preview, keys 0-9 save the region under that label),
a camera or video file headless (`label`, `count`, `interval`), or a folder of photos of one
digit (`from_path`). No TensorFlow and no model: this runs on the Pi.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnn_edge.common.errors import CameraError, CnnEdgeError, ConfigError, DataError
from cnn_edge.common.image_folders import (
    CLASSES,
    INPUT_SUFFIX,
    image_files,
    is_image_file,
    is_twin,
    sample_stem,
)
from cnn_edge.common.limits import MAX_INTERVAL_S, check_float
from cnn_edge.common.names import printable
from cnn_edge.edge_runtime.preprocess import (
    CAMERA,
    DEFAULT,
    PreprocessConfig,
    center_roi,
    preprocess,
    use_one_opencv_thread,
)

Log = Callable[[str], None]



@dataclass(frozen=True)
class CollectConfig:
    """One collection session.

    out: the samples folder (DIR/0 ... DIR/9 are created as needed).
    source: camera index ("0"), video file, stream URL or "picamera2" (as `infer --camera`).
    from_path: a photo or a folder of photos of one digit, instead of a camera (needs `label`).
    label: the digit every saved sample gets (headless camera, or `from_path`); None with a
        camera opens the preview, where keys 0-9 choose the label per sample.
    count: headless camera: samples to save (frames with no digit found are not saved).
    interval: headless camera: least seconds between two saved samples (0: every frame).
    roi: side of the centred square cut from each camera frame, as a fraction of its shorter
        side (as `infer --camera --roi`).
    find_card: camera: look for the card in the region as `infer --camera` does (its 28x28
        is then exactly what `infer --camera` would feed the model).
    display: allow a preview window (False: never, as --no-display).
    max_frames: headless camera: give up after reading this many frames (None: no limit), so
        a camera that never shows a digit does not run forever.
    """

    out: Path
    source: str = "0"
    from_path: Path | None = None
    label: int | None = None
    count: int = 20
    interval: float = 0.5
    roi: float = 0.6
    find_card: bool = True
    display: bool = True
    max_frames: int | None = None


@dataclass(frozen=True)
class CollectResult:
    """What a session saved.

    saved: paths of the crops written (each has its `.28x28.png` beside it).
    counts: samples per class in the whole folder after the session ("0".."9").
    no_digit: frames or photos where the runtime found no digit (not saved).
    problems: one line per photo that could not be read (not saved).
    stop_reason: "count reached", "end of stream", "quit", "interrupted", "frame limit", "photos done".
    """

    out: Path
    saved: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    no_digit: int = 0
    problems: list[str] = field(default_factory=list)
    stop_reason: str = ""

    def summary_text(self) -> str:
        per_class = "  ".join(f"{k}:{v}" for k, v in self.counts.items())
        return (f"saved {len(self.saved)} samples to {self.out} ({self.stop_reason}); "
                f"no digit in {self.no_digit}; per class {per_class}; total {sum(self.counts.values())}")


def collect(config: CollectConfig, log: Log = lambda _msg: None) -> CollectResult:
    """Run one collection session as `config` says; see the module's docstring for the layout."""
    _validate(config)
    use_one_opencv_thread()
    if config.from_path is not None:
        return _from_photos(config, log)
    return _from_camera(config, log)


def count_samples(out: Path) -> dict[str, int]:
    """Samples per class folder (crops with or without their 28x28; a lone 28x28 counts too)."""
    counts = {}
    for c in CLASSES:
        folder = Path(out) / c
        stems = {sample_stem(p) for p in folder.iterdir() if is_image_file(p)} if folder.is_dir() else set()
        counts[c] = len(stems)
    return counts


def _validate(config: CollectConfig) -> None:
    if config.label is not None and not 0 <= config.label <= 9:
        raise ConfigError(f"--label must be a digit 0-9, got {config.label}")
    if config.from_path is not None and config.label is None:
        raise ConfigError("--from needs --label: the digit the photos show")
    if config.count < 1:
        raise ConfigError(f"--count must be at least 1, got {config.count}")
    if config.interval < 0:
        raise ConfigError(f"--interval must be 0 or more seconds, got {config.interval}")
    check_float("--interval", config.interval, 0.0, MAX_INTERVAL_S)
    if not 0.05 <= config.roi <= 1.0:
        raise ConfigError(f"--roi must be between 0.05 and 1 (of the frame height), got {config.roi}")
    if config.max_frames is not None and config.max_frames < 1:
        raise ConfigError(f"--max-frames must be at least 1, got {config.max_frames}")
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out} exists and is not a folder", hint="pass another --out")


# --------------------------------------------------------------------------- writing


def _safe(text: str) -> str:
    """A file-name-safe short form of a source name ("camera 0" -> "camera-0")."""
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-.")[:40] or "src"


def _source_tag(spec: str) -> str:
    spec = spec.strip()
    if spec.lstrip("-").isdigit():
        return f"cam{spec}"
    if "://" in spec:
        return _safe(spec.split("://", 1)[1].split("/", 1)[0])
    return _safe(Path(spec).stem) if spec.lower() != "picamera2" else "picamera2"


def _stamp() -> str:
    now = time.time()
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now * 1000) % 1000:03d}"


def _encode(image: np.ndarray, ext: str) -> bytes:
    import cv2

    ok, buf = cv2.imencode(ext, image)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        raise DataError(f"OpenCV could not encode a {ext} image")
    return buf.tobytes()


def _link_new(folder: Path, name: str, data: bytes) -> bool:
    """Write `data` to folder/name only if that name is free (atomic, never overwrites)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, folder / name)  # fails if the name exists: no overwrite, no race
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


def save_sample(out: Path, label: int, crop: bytes, crop_ext: str, digit: np.ndarray, tag: str) -> Path:
    """Save one sample (the crop's encoded bytes and its 28x28 input) under DIR/label; return the crop."""
    folder = Path(out) / str(label)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {printable(folder)}: {exc.strerror or exc}") from None
    digit_png = _encode(np.ascontiguousarray(digit, dtype=np.uint8), ".png")
    try:
        return _save_pair(folder, crop, crop_ext, digit_png, tag)
    except OSError as exc:  # a read-only or full class folder: one line, the samples so far kept
        raise DataError(
            f"cannot save a sample in {printable(folder)}: {exc.strerror or exc}",
            hint="check the folder's permissions and free space",
        ) from None


def _save_pair(folder: Path, crop: bytes, crop_ext: str, digit_png: bytes, tag: str) -> Path:
    stamp = _stamp()
    n = 1
    while True:
        stem = f"{stamp}_{tag}_{n:04d}"
        # Claim the 28x28 name first: a stem is taken when either of its files exists.
        if not (folder / f"{stem}{crop_ext}").exists() and _link_new(folder, stem + INPUT_SUFFIX, digit_png):
            if _link_new(folder, stem + crop_ext, crop):
                return folder / f"{stem}{crop_ext}"
            os.unlink(folder / (stem + INPUT_SUFFIX))  # lost a race for the crop's name: try the next
        n += 1


# --------------------------------------------------------------------------- photos


def _from_photos(config: CollectConfig, log: Log) -> CollectResult:
    from cnn_edge.edge_runtime.images import load_image

    src = Path(config.from_path)
    if src.is_dir():
        photos = [p for p in image_files(src) if not is_twin(p)]
        if not photos:
            raise DataError(f"no image files in {printable(src)}",
                            hint="pass --from with a photo or a folder of photos")
    elif src.is_file():
        photos = [src]
    else:
        raise DataError(f"--from {printable(src)}: no such file or folder")
    assert config.label is not None
    saved: list[Path] = []
    problems: list[str] = []
    no_digit = 0
    for path in photos:
        try:
            image = load_image(path)
            data = path.read_bytes()
        except (CnnEdgeError, OSError) as exc:
            problems.append(str(exc))
            log(f"skipped: {exc}")
            continue
        digit = preprocess(image, DEFAULT)
        if digit is None:
            no_digit += 1
            log(f"skipped: {printable(path)}: no digit found")
            continue
        ext = path.suffix.lower() if path.suffix else ".png"
        saved.append(save_sample(config.out, config.label, data, ext, digit, "photo-" + _safe(path.stem)))
    counts = count_samples(config.out)
    return CollectResult(Path(config.out), saved, counts, no_digit, problems, "photos done")


# --------------------------------------------------------------------------- camera


def _from_camera(config: CollectConfig, log: Log) -> CollectResult:
    from cnn_edge.device.preview import display_problem
    from cnn_edge.device.sources import open_source

    show = False
    if config.display and config.label is None:
        problem = display_problem()
        if problem is not None:
            raise CameraError(
                f"collecting with keys 0-9 needs a preview window: {problem}",
                hint="collect headless instead with --label N --count K [--interval S]",
            )
        show = True
    elif config.label is None:
        raise ConfigError("--no-display needs --label N: the digit every saved frame shows")
    prep = CAMERA if config.find_card else DEFAULT
    tag = _source_tag(config.source)
    source = open_source(config.source)
    try:
        if show:
            result = _preview_loop(config, source, prep, tag, log)
        else:
            result = _headless_loop(config, source, prep, tag, log)
    finally:
        source.close()
        problem = source.problem()
        if problem is not None:
            log(problem)
    return result


def _region(frame: np.ndarray, roi: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    box = center_roi(frame, roi)
    x, y, s, _ = box
    return frame[y:y + s, x:x + s], box


def _headless_loop(config: CollectConfig, source, prep: PreprocessConfig, tag: str,
                   log: Log) -> CollectResult:
    assert config.label is not None
    saved: list[Path] = []
    no_digit = frames = 0
    last_save = -float("inf")
    reason = "count reached"
    try:
        while len(saved) < config.count:
            if config.max_frames is not None and frames >= config.max_frames:
                reason = "frame limit"
                break
            frame = source.read()
            if frame is None:
                reason = source.end_reason
                break
            frames += 1
            now = time.monotonic()
            if now - last_save < config.interval:
                continue
            crop, _ = _region(frame, config.roi)
            digit = preprocess(crop, prep)
            if digit is None:
                no_digit += 1
                continue
            path = save_sample(config.out, config.label, _encode(crop, ".png"), ".png", digit, tag)
            saved.append(path)
            last_save = now
            log(f"saved {len(saved)}/{config.count}: {path}")
    except KeyboardInterrupt:
        reason = "interrupted"
    return CollectResult(Path(config.out), saved, count_samples(config.out), no_digit, [], reason)


def _preview_loop(config: CollectConfig, source, prep: PreprocessConfig, tag: str,
                  log: Log) -> CollectResult:  # pragma: no cover - needs a display
    from cnn_edge.device.preview import QUIT_KEYS, Preview

    preview = Preview()
    saved: list[Path] = []
    counts = count_samples(config.out)
    no_digit = 0
    reason = "end of stream"
    try:
        while True:
            frame = source.read()
            if frame is None:
                reason = source.end_reason
                break
            crop, roi = _region(frame, config.roi)
            digit = preprocess(crop, prep)
            no_digit += digit is None
            key = preview.show(_collect_view(frame, roi, digit, counts))
            if key in QUIT_KEYS:
                reason = "quit"
                break
            if ord("0") <= key <= ord("9"):
                path = _save_pressed(config, key - ord("0"), crop, digit, tag, log)
                if path is not None:
                    saved.append(path)
                    counts[str(key - ord("0"))] += 1
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        preview.close()
    return CollectResult(Path(config.out), saved, count_samples(config.out), no_digit, [], reason)


def _collect_view(frame: np.ndarray, roi: tuple[int, int, int, int], digit: np.ndarray | None,
                  counts: dict[str, int]) -> np.ndarray:  # pragma: no cover - needs a display
    """The camera's preview (region and 28x28) with the keys and the samples saved so far."""
    from cnn_edge.device.preview import draw_footer, draw_region

    view = frame.copy()
    draw_region(view, roi, digit is not None, digit)
    draw_footer(view, "keys 0-9 save, q quits   " + " ".join(f"{k}:{v}" for k, v in counts.items()))
    return view


def _save_pressed(config: CollectConfig, label: int, crop: np.ndarray, digit: np.ndarray | None, tag: str,
                  log: Log) -> Path | None:  # pragma: no cover - needs a display
    if digit is None:
        log("not saved: no digit in the region")
        return None
    path = save_sample(config.out, label, _encode(crop, ".png"), ".png", digit, tag)
    log(f"saved {label}: {path}")
    return path
