"""Configuration and results of `cnn-edge bundle` and `cnn-edge deploy` (plain data: cheap to import)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# What a device needs to run and check a run: the int8 model, its float32 reference (evaluate
# measures the int8 loss against it) and the manifest. Other formats join with --format.
DEFAULT_FORMATS: tuple[str, ...] = ("float32", "int8")


@dataclass(frozen=True)
class BundleFile:
    """One file of the edge bundle: its name on the device, where it is here, and its checksum."""

    name: str
    source: Path | None  # None: generated in memory (README.md, SHA256SUMS)
    data: bytes | None
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class BundleConfig:
    """What to bundle and where to write it.

    Fields:
        run: a converted run directory (manifest.json beside the .tflite files).
        out: the .tar.gz to write (atomically; an existing file is replaced).
        formats: which models to include, by format name (the formats table); the float32
            reference is always included so the device can measure the int8 loss.
    """

    run: Path
    out: Path
    formats: tuple[str, ...] = DEFAULT_FORMATS


@dataclass(frozen=True)
class BundleResult:
    """The written archive and what is in it."""

    out: Path
    top_dir: str
    files: tuple[BundleFile, ...]
    size_bytes: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "top_dir": self.top_dir,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "files": [{"name": f.name, "size_bytes": f.size_bytes, "sha256": f.sha256} for f in self.files],
        }


@dataclass(frozen=True)
class DeployConfig:
    """Where to deploy a run, how to reach the device, and what to check there.

    Fields:
        run: a converted run directory (its edge bundle is copied; the device report is saved here).
        to: USER@HOST[:PATH] or an alias from ~/.ssh/config; PATH defaults to cnn-edge/RUN_NAME in
            the remote home. A relative PATH is relative to the remote home.
        formats: models to copy, by format name (float32 is always included).
        check: after the copy, run `cnn-edge doctor` and `cnn-edge evaluate` on the device.
        ssh_config: an ssh_config file to use instead of ~/.ssh/config (`ssh -F`).
        ssh_options: extra `-o Key=Value` options for ssh (e.g. Port=2222).
        accept_new_host_key: trust a host key seen for the first time (ssh's
            StrictHostKeyChecking=accept-new); a changed key is always refused.
        remote_cnn_edge: the cnn-edge command on the device; None looks on the remote PATH, then in
            ~/.local/bin and ~/cnn-edge-venv/bin.
        eval_limit: evaluate on the first N images of the bundled evaluation set (None: all 10,000).
        eval_runs: timed single-image invokes for the latency percentiles.
        camera: also check this camera on the device (index or picamera2); None skips it.
        connect_timeout: seconds to wait for the SSH connection.
        progress: called with one short line per step (the CLI prints it); None is silent.
        keep_previous: keep the files the switch replaces on the device (in .cnn-edge-previous)
            so `previous.roll_back` can restore them; a fleet rollout sets it.
        on_switch: called with the names of the files just switched into place (before the
            check), so a caller knows the device's bundle changed even when the check then fails.
        workstation_evaluate: this computer's `evaluate --json` of the same model and images,
            measured once by a fleet rollout; None measures it here for this deploy.
    """

    run: Path
    to: str
    formats: tuple[str, ...] = DEFAULT_FORMATS
    check: bool = True
    ssh_config: Path | None = None
    ssh_options: tuple[str, ...] = ()
    accept_new_host_key: bool = False
    remote_cnn_edge: str | None = None
    eval_limit: int | None = None
    eval_runs: int = 200
    camera: str | None = None
    connect_timeout: float = 10.0
    progress: Callable[[str], None] | None = None
    keep_previous: bool = False
    on_switch: Callable[[tuple[str, ...]], None] | None = None
    workstation_evaluate: dict[str, Any] | None = None


@dataclass(frozen=True)
class DeployResult:
    """What was copied, whether the device's copy checks out, and the on-device report."""

    destination: str
    remote_path: str
    copied: tuple[str, ...]
    unchanged: tuple[str, ...]
    bytes_sent: int
    verified: bool
    report: dict[str, Any] | None
    report_path: Path | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "remote_path": self.remote_path,
            "copied": list(self.copied),
            "unchanged": list(self.unchanged),
            "bytes_sent": self.bytes_sent,
            "verified": self.verified,
            "report_path": str(self.report_path) if self.report_path else None,
            "report": self.report,
        }
