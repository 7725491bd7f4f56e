"""`cnn-edge infer PATH...`: classify image files, one record per file, errors per file.

One broken file must not cost the user the answers for the other hundred, so each file's
failure is recorded as that file's error and the run goes on; the caller decides the exit code.
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cnn_edge.common.atomic import write_bytes
from cnn_edge.common.errors import CnnEdgeError, ConfigError, ImageError
from cnn_edge.common.image_folders import image_files, undecodable_photos
from cnn_edge.common.names import printable
from cnn_edge.device.globbing import GlobTooLarge, bounded_glob
from cnn_edge.edge_runtime.classify import Classifier, Prediction
from cnn_edge.edge_runtime.images import load_image
from cnn_edge.edge_runtime.interpreter import load_model


@dataclass(frozen=True)
class InferFilesConfig:
    """What to classify and with which model.

    model: path of the .tflite classifier.
    paths: files, folders (their image files, not recursive) and glob patterns, in order.
    backend: "auto" (LiteRT, then tflite-runtime), "litert" or "tflite-runtime".
    threads: interpreter threads (None: all cores).
    save_preprocessed: folder to write each file's 28x28 model input to (PNG), or None.
    """

    model: Path
    paths: Sequence[str]
    backend: str = "auto"
    threads: int | None = None
    save_preprocessed: Path | None = None


@dataclass(frozen=True)
class FileRecord:
    """One input file's outcome: a prediction, or the error that stopped it."""

    source: str
    prediction: Prediction | None = None
    error: str | None = None
    preprocessed_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict:
        if self.error is not None:
            return {"source": self.source, "error": self.error}
        assert self.prediction is not None
        out = {"source": self.source, **self.prediction.to_json()}
        if self.preprocessed_path:
            out["preprocessed"] = self.preprocessed_path
        return out


@dataclass(frozen=True)
class InferFilesResult:
    """All records in input order, plus the model facts worth printing once."""

    records: list[FileRecord] = field(default_factory=list)
    backend: str = ""
    model: str = ""

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.records)


def expand_paths(paths: Sequence[str]) -> list[tuple[str, Path | None, str | None]]:
    """Each argument -> (source, path, error). Folders give their images; globs their matches.

    A name that matches nothing, or that the system refuses to look at (too long, no
    permission), is an error record, not an exception: it is one of the user's files that
    could not be processed, like any other. Sources are printable (see `printable`).
    """
    out: list[tuple[str, Path | None, str | None]] = []
    for arg in paths:
        try:
            out.extend(_expand_one(arg))
        except OSError as exc:
            out.append((printable(arg), None, f"{printable(arg)}: cannot read ({exc.strerror or exc})"))
    return out


def _expand_one(arg: str) -> list[tuple[str, Path | None, str | None]]:
    p, shown = Path(arg), printable(arg)
    if p.is_dir():
        found, heic = image_files(p), undecodable_photos(p)
        if not found:
            if heic:
                return [(shown, None, f"{shown}: folder has no image files OpenCV can read, only {len(heic)} "
                                      "HEIC photo(s): export them as JPEG or PNG")]
            return [(shown, None, f"{shown}: folder has no image files")]
        # Beside readable photos, each HEIC one is that file's error: silently skipped, a
        # user counting results would be a few short with no word why.
        skipped = [(printable(q), None,
                    f"{printable(q)}: this OpenCV cannot decode HEIC photos: export it as JPEG or PNG")
                   for q in heic]
        return [(printable(q), q, None) for q in found] + skipped
    if p.exists():
        return [(shown, p, None)]
    if glob.has_magic(arg):
        try:
            files = bounded_glob(arg)
        except GlobTooLarge as exc:
            return [(shown, None, f"{shown}: {exc}")]
        if not files:
            return [(shown, None, f"{shown}: no file matches this pattern")]
        return [(printable(m), Path(m), None) for m in files]
    return [(shown, None, f"{shown}: no such file or folder")]


def infer_files(
    config: InferFilesConfig, on_record: Callable[[FileRecord], None] | None = None
) -> InferFilesResult:
    """Classify every image in `config.paths`; `on_record` sees each record as soon as it is done."""
    if not config.paths:
        raise ConfigError("no images given", hint="pass image files, folders or globs, or use --camera")
    model = load_model(config.model, backend=config.backend, threads=config.threads)
    classifier = Classifier(model)
    if config.save_preprocessed is not None:
        _check_writable(config.save_preprocessed)
    records: list[FileRecord] = []
    used_names: set[str] = set()
    for source, path, error in expand_paths(config.paths):
        if error is None and path is not None:
            record = _one_file(classifier, source, path, config.save_preprocessed, used_names)
        else:
            record = FileRecord(source, error=error)
        records.append(record)
        if on_record is not None:
            on_record(record)
    backend = f"{model.backend} {model.backend_version}"
    return InferFilesResult(records, backend=backend, model=str(model.path))


def _one_file(classifier: Classifier, source: str, path: Path, save_dir: Path | None,
              used_names: set[str]) -> FileRecord:
    try:
        image = load_image(path)
    except ImageError as exc:
        return FileRecord(source, error=str(exc))
    try:
        pred = classifier.classify(image)
    except CnnEdgeError as exc:
        return FileRecord(source, error=f"{source}: {exc}")
    saved = None
    if save_dir is not None and pred.digit is not None:
        try:
            saved = printable(_save_digit(pred.digit, path, save_dir, used_names))
        except OSError as exc:  # the folder became read-only or full after the check
            reason = exc.strerror or exc
            return FileRecord(source, error=f"{source}: cannot save its preprocessed input ({reason})")
    return FileRecord(source, prediction=pred, preprocessed_path=saved)


def _check_writable(folder: Path) -> None:
    """Create --save-preprocessed and prove a file can be written there, before any work is done."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".cnn-edge-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"cannot write to --save-preprocessed folder {printable(folder)}: {exc.strerror or exc}",
            hint="choose a folder you can write to",
        ) from None


def _save_digit(digit, path: Path, save_dir: Path, used_names: set[str]) -> Path:
    import cv2

    # Two inputs called a/1.png and b/1.png must not overwrite each other.
    stem, n = path.stem, 1
    name = f"{stem}.png"
    while name in used_names:
        n += 1
        name = f"{stem}_{n}.png"
    used_names.add(name)
    ok, buf = cv2.imencode(".png", digit)
    target = save_dir / name
    write_bytes(target, buf.tobytes())
    return target
