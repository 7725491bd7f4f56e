"""`cnn-edge infer PATH...`: classify image files, one record per file, errors per file.

One broken file must not cost the user the answers for the other hundred, so each file's
failure is recorded as that file's error and the run goes on; the caller decides the exit code.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cnn_edge.common.atomic import write_bytes
from cnn_edge.common.errors import CnnEdgeError, ConfigError, ImageError
from cnn_edge.common.image_folders import image_files
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

    A name that matches nothing is an error record, not an exception: it is one of the
    user's files that could not be processed, like any other.
    """
    out: list[tuple[str, Path | None, str | None]] = []
    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            found = image_files(p)
            if not found:
                out.append((arg, None, f"{arg}: folder has no image files"))
            out.extend((str(q), q, None) for q in found)
        elif p.exists():
            out.append((arg, p, None))
        elif glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            files = [m for m in matches if os.path.isfile(m)]
            if not files:
                out.append((arg, None, f"{arg}: no file matches this pattern"))
            out.extend((m, Path(m), None) for m in files)
        else:
            out.append((arg, None, f"{arg}: no such file or folder"))
    return out


def infer_files(
    config: InferFilesConfig, on_record: Callable[[FileRecord], None] | None = None
) -> InferFilesResult:
    """Classify every image in `config.paths`; `on_record` sees each record as soon as it is done."""
    if not config.paths:
        raise ConfigError("no images given", hint="pass image files, folders or globs, or use --camera")
    model = load_model(config.model, backend=config.backend, threads=config.threads)
    classifier = Classifier(model)
    if config.save_preprocessed is not None:
        try:
            config.save_preprocessed.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create --save-preprocessed folder {config.save_preprocessed}: {exc.strerror}"
            ) from None
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
        saved = str(_save_digit(pred.digit, path, save_dir, used_names))
    return FileRecord(source, prediction=pred, preprocessed_path=saved)


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
