"""The edge bundle of a run: its .tflite models, manifest, a README and SHA256SUMS, and the .tar.gz of them.

A bundle is everything a device needs to run and check the models, and nothing that needs
TensorFlow. Every file name is a plain name checked here, so neither the archive nor a deploy
can write outside the folder it is unpacked or copied into.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

from cnn_edge import __version__
from cnn_edge.common.atomic import atomic_path
from cnn_edge.common.checksums import sha256_file
from cnn_edge.common.errors import ConfigError, RunDirError
from cnn_edge.common.formats import BY_NAME, REFERENCE
from cnn_edge.common.run_dir import MANIFEST
from cnn_edge.deploy.config import BundleConfig, BundleFile, BundleResult

README = "README.md"
SHA256SUMS = "SHA256SUMS"
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# gzip's header keeps the time in 32 bits: a manifest dated outside 1970-2106 is packed at the edge.
MAX_MTIME = 2**32 - 1
# Convert options that produce each format, for the "convert it first" hint.
CONVERT_OPTION = {"float32": "", "int8": " --int8", "float16": " --float16", "dynamic": " --dynamic"}


def make_bundle(cfg: BundleConfig) -> BundleResult:
    """Write the run's edge bundle as a .tar.gz (one top folder, byte-identical for the same run)."""
    if not cfg.out.name.endswith((".tar.gz", ".tgz")):
        raise ConfigError(
            f"--out {cfg.out} should end in .tar.gz", hint="the bundle is a gzip-compressed tar"
        )
    if cfg.out.is_dir():
        raise ConfigError(f"--out {cfg.out} is a folder",
                          hint="pass the .tar.gz file to write, e.g. DIR/run.tar.gz")
    files = collect_bundle(cfg.run, cfg.formats)
    top_dir = f"cnn-edge-{run_name(cfg.run)}"
    mtime = min(max(int((cfg.run / MANIFEST).stat().st_mtime), 0), MAX_MTIME)
    try:
        with atomic_path(cfg.out, suffix=".tmp") as tmp:
            write_archive(tmp, top_dir, files, mtime=mtime)
    except OSError as exc:
        where = exc.filename if exc.filename else cfg.out
        raise RunDirError(f"cannot write the bundle: {where}: {exc.strerror or exc}",
                          hint="check the run's files and that --out is a writable place") from None
    return BundleResult(
        out=cfg.out,
        top_dir=top_dir,
        files=files,
        size_bytes=cfg.out.stat().st_size,
        sha256=sha256_file(cfg.out),
    )


def collect_bundle(run: Path, formats: tuple[str, ...]) -> tuple[BundleFile, ...]:
    """The bundle's files, each model checked against the sha256 its manifest recorded."""
    manifest_path = run / MANIFEST
    manifest = read_manifest(run)
    entries = {m["format"]: m for m in manifest["models"]
               if isinstance(m, dict) and isinstance(m.get("format"), str)}
    files: list[BundleFile] = []
    for name in _with_reference(formats):
        entry = entries.get(name)
        if entry is None:
            raise RunDirError(
                f"{run} has no {name} model in its manifest",
                hint=f"convert it first: cnn-edge convert --run {run}{CONVERT_OPTION.get(name, '')}",
            )
        files.append(_model_file(run, entry))
    files.append(_file_on_disk(MANIFEST, manifest_path))
    readme = bundle_readme(run_name(run), manifest, files).encode()
    files.append(_file_in_memory(README, readme))
    sums = "".join(f"{f.sha256}  {f.name}\n" for f in files).encode()
    files.append(_file_in_memory(SHA256SUMS, sums))
    return tuple(files)


def read_manifest(run: Path) -> dict[str, Any]:
    """The run's manifest.json as a dict (one clear error when it is missing or unreadable)."""
    path = run / MANIFEST
    if not run.is_dir():
        raise RunDirError(f"run directory {run} does not exist", hint="pass the --run of a converted run")
    if not path.is_file():
        raise RunDirError(
            f"{run} has no {MANIFEST}", hint=f"convert the run first: cnn-edge convert --run {run} --int8"
        )
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(
            f"{path} is not readable JSON ({exc})",
            hint=f"convert the run again: cnn-edge convert --run {run} --int8",
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("models", []), list):
        raise RunDirError(f"{path} is not a cnn-edge manifest (no list of models)",
                          hint=f"convert the run again: cnn-edge convert --run {run} --int8")
    return {**manifest, "models": manifest.get("models", [])}


def _with_reference(formats: tuple[str, ...]) -> list[str]:
    unknown = [f for f in formats if f not in BY_NAME]
    if unknown:
        raise ConfigError(f"unknown format {unknown[0]!r}", hint=f"choose from {', '.join(BY_NAME)}")
    # The float32 reference first: the device measures the other models' loss against it.
    return [REFERENCE, *dict.fromkeys(f for f in formats if f != REFERENCE)]


def _model_file(run: Path, entry: dict[str, Any]) -> BundleFile:
    name = str(entry.get("file", ""))
    check_name(name)
    fmt = BY_NAME[str(entry.get("format"))]
    if name != fmt.filename:
        raise RunDirError(
            f"the manifest names {name!r} as the {fmt.name} model, which convert writes as {fmt.filename}",
            hint=f"convert again: cnn-edge convert --run {run}",
        )
    path = regular_file_in(run, name)
    actual = _sha256(path)
    if actual != entry.get("sha256"):
        raise RunDirError(
            f"{path} does not match the sha256 in its manifest (changed after conversion?)",
            hint=f"convert again: cnn-edge convert --run {run}",
        )
    return BundleFile(name=name, source=path, data=None, size_bytes=path.stat().st_size, sha256=actual)


def regular_file_in(run: Path, name: str) -> Path:
    """`run/name` if it is a regular file of the run itself: not a symlink, not a special file."""
    path = run / name
    if path.is_symlink():
        raise RunDirError(f"{path} is a symbolic link: a bundle takes only the run's own files",
                          hint="put the file itself in the run, or convert again")
    if not path.is_file():
        what = "missing" if not path.exists() else "not a regular file"
        raise RunDirError(f"{path} is listed in the manifest but {what}",
                          hint=f"convert again: cnn-edge convert --run {run}")
    return path


def _sha256(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as exc:
        raise RunDirError(f"cannot read {path} ({exc.strerror or exc})",
                          hint="check the file's permissions, or convert the run again") from None


def _file_on_disk(name: str, path: Path) -> BundleFile:
    path = regular_file_in(path.parent, name)
    return BundleFile(name=name, source=path, data=None, size_bytes=path.stat().st_size, sha256=_sha256(path))


def _file_in_memory(name: str, data: bytes) -> BundleFile:
    return BundleFile(
        name=name, source=None, data=data, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


def check_name(name: str) -> str:
    """A bundle file name must be a plain name: no folders, no '..', nothing hidden."""
    if not SAFE_NAME.fullmatch(name) or ".." in name:
        raise RunDirError(
            f"the manifest names a model file {name!r} that is not a plain file name",
            hint="convert the run again; cnn-edge only copies plain names",
        )
    return name


def open_file(f: BundleFile) -> io.BufferedIOBase:
    """A binary reader of one bundle file's bytes."""
    return io.BytesIO(f.data) if f.data is not None else open(f.source, "rb")  # type: ignore[arg-type]


def write_tar(
    fileobj: Any, files: tuple[BundleFile, ...], *, prefix: str = "", mtime: int = 0, compress: bool = True
) -> None:
    """Write `files` as a (gzip-compressed) tar stream to `fileobj`, reproducibly.

    Fixed owner, mode and time, and gzip's own header time set to `mtime`, so the same files give
    the same bytes. A source file shorter than its recorded size raises (a cut stream, not a
    shorter file).
    """
    gz = gzip.GzipFile(fileobj=fileobj, mode="wb", mtime=mtime, filename="") if compress else None
    try:
        with tarfile.open(fileobj=gz or fileobj, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
            if prefix:
                tar.addfile(_tarinfo(prefix, 0, mtime, tarfile.DIRTYPE, 0o755))
            for f in files:
                info = _tarinfo(
                    f"{prefix}/{f.name}" if prefix else f.name, f.size_bytes, mtime, tarfile.REGTYPE, 0o644
                )
                with open_file(f) as src:
                    tar.addfile(info, src)
    finally:
        if gz is not None:
            gz.close()


def write_archive(path: Path, top_dir: str, files: tuple[BundleFile, ...], *, mtime: int) -> None:
    with open(path, "wb") as fh:
        write_tar(fh, files, prefix=top_dir, mtime=mtime)


def _tarinfo(name: str, size: int, mtime: int, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.type, info.mode = size, mtime, kind, mode
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def safe_name(text: str, fallback: str) -> str:
    """`text` as a file or folder name: runs of other characters become '-', no leading dot."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-") or fallback


def run_name(run: Path) -> str:
    """The run folder's name, safe as a file or folder name."""
    return safe_name(run.resolve().name, "run")


def bundle_readme(run_name: str, manifest: dict[str, Any], models: list[BundleFile]) -> str:
    """How to check and run the bundle on a device (Markdown, written into the bundle)."""
    by_file = {m["file"]: m for m in manifest.get("models", [])
               if isinstance(m, dict) and isinstance(m.get("file"), str)}
    rows = []
    for f in models:
        entry = by_file.get(f.name)
        if entry is None:
            continue
        acc = entry.get("accuracy")
        acc_text = f"{acc:.2%}" if isinstance(acc, (int, float)) else "-"
        rows.append(f"| `{f.name}` | {entry.get('format')} | {f.size_bytes:,} B | {acc_text} |")
    names = [f.name for f in models]
    int8 = BY_NAME["int8"].filename
    first = int8 if int8 in names else names[0]
    table = "\n".join(rows)
    return f"""# cnn-edge bundle: {run_name}

Made by cnn-edge {__version__}. Accuracies are the workstation's, on the 10,000 MNIST test images.

| file | format | size | accuracy |
|---|---|---|---|
{table}

`manifest.json` says how each model was made and how its input is prepared.

## On the device

1. Check the files arrived whole: `sha256sum -c SHA256SUMS`
2. Install the runtime (no TensorFlow):
   - 64-bit Raspberry Pi OS or any 64-bit OS, Python >= 3.10:
     `python3 -m venv ~/cnn-edge-venv && ~/cnn-edge-venv/bin/pip install 'cnn-edge[edge]=={__version__}'`
   - 32-bit Raspberry Pi OS (LiteRT has no 32-bit wheels):
     `pip install 'cnn-edge=={__version__}' tflite-runtime 'numpy<2' opencv-python-headless`
3. Is the device ready? `cnn-edge doctor`
4. Accuracy and latency here, int8 against float32: `cnn-edge evaluate --model {first}`
5. Read digits: `cnn-edge infer --model {first} photo.jpg` or `cnn-edge infer --model {first} --camera`
   (`--source picamera2` for the Pi camera module, `--no-display` without a screen).
"""
