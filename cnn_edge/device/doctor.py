"""`cnn-edge doctor`: is this device ready to run cnn-edge models? Each check says why and how to fix.

No TensorFlow here: this is what a user runs first on a fresh Raspberry Pi.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common.platform import is_arm32

ASSETS = Path(__file__).resolve().parent / "assets"
DOCTOR_MODEL = ASSETS / "doctor_model.tflite"
DOCTOR_EXPECTED = ASSETS / "doctor_model.json"

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"


@dataclass(frozen=True)
class DoctorConfig:
    """What to check.

    Fields:
        camera: camera source to try to open (as `infer --camera` takes it: "0", "picamera2", ...);
            None skips the camera check (e.g. in CI).
        backend: interpreter backend for the tiny-model check ("auto" tries them all in order).
        model_check: run the shipped tiny model on the bundled evaluation images.
    """

    camera: str | None = "0"
    backend: str = "auto"
    model_check: bool = True


@dataclass(frozen=True)
class Check:
    """One line of the report: `status` is ok, warn (works, but see `fix`), fail or skip."""

    name: str
    status: str
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class DoctorResult:
    """All checks; the device is ready when none failed."""

    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "checks": [asdict(c) for c in self.checks]}


def _py() -> tuple[int, int]:
    return sys.version_info[:2]


def check_python() -> Check:
    v = platform.python_version()
    if _py() < (3, 10):
        return Check("python", FAIL, v, "cnn-edge needs Python >= 3.10")
    return Check("python", OK, f"{v} ({sys.executable})")


def check_numpy() -> Check:
    return Check("numpy", OK, np.__version__)


def check_arch() -> Check:
    arch = platform.machine()
    if is_arm32(arch):
        return Check("cpu architecture", WARN, f"{arch} (32-bit ARM)",
                     "LiteRT (ai-edge-litert) has no 32-bit ARM wheels: "
                     "use tflite-runtime with Python <= 3.11 "
                     "and `pip install 'numpy<2'`, or install a 64-bit OS")
    return Check("cpu architecture", OK, f"{arch}, {platform.system()} {platform.release()}")


def check_backends() -> list[Check]:
    """One check per interpreter backend, with the known incompatibilities spelled out."""
    from cnn_edge.edge_runtime.interpreter import INSTALL_HINT, available_backends

    found = available_backends()
    checks = []
    for name, info in found.items():
        if not info.startswith("unavailable"):
            checks.append(Check(f"backend {name}", OK, info))
            continue
        fix = INSTALL_HINT
        not_installed = "ModuleNotFoundError" in info
        if name == "tflite-runtime":
            if _py() > (3, 11):
                fix = ("tflite-runtime has no wheels past Python 3.11 "
                       f"(this is {platform.python_version()}): "
                       "use ai-edge-litert, or a Python 3.11 virtualenv")
            elif not not_installed and ("numpy" in info.lower() or np.__version__.startswith("2")):
                # installed but fails to import: its wheels are built against numpy 1.x
                fix = "tflite-runtime is built against numpy 1.x: `pip install 'numpy<2'`"
            elif not_installed:
                fix = "optional (LiteRT is enough); for 32-bit ARM: `pip install tflite-runtime 'numpy<2'`"
        elif name == "litert" and is_arm32(platform.machine()):
            fix = "LiteRT has no 32-bit ARM wheels: use tflite-runtime (Python <= 3.11, numpy < 2)"
        checks.append(Check(f"backend {name}", SKIP, info, fix))
    if not any(c.status == OK for c in checks):
        checks.append(Check("interpreter", FAIL, "no TFLite interpreter can be imported", INSTALL_HINT))
    elif (found.get("tflite-runtime", "").startswith("unavailable") is False
          and int(np.__version__.split(".")[0]) >= 2):
        checks.append(Check("numpy / tflite-runtime", WARN, f"numpy {np.__version__} with tflite-runtime",
                            "tflite-runtime wheels are built against numpy 1.x: `pip install 'numpy<2'`"))
    return checks


def check_opencv() -> Check:
    try:
        import cv2
    except Exception as exc:
        return Check("opencv", WARN, f"cannot import cv2 ({type(exc).__name__}: {exc})",
                     "`pip install opencv-python-headless` (needed for photos and the camera)")
    try:
        from cv2 import videoio_registry as reg

        backends = ", ".join(dict.fromkeys(reg.getBackendName(b) for b in reg.getBackends()))
    except Exception:  # very old OpenCV builds lack the registry
        backends = "unknown"
    return Check("opencv", OK, f"{cv2.__version__}; video backends: {backends or 'none'}")


def check_camera(spec: str | None) -> Check:
    if spec is None:
        return Check("camera", SKIP, "not checked (--no-camera)")
    if spec.isdigit() and sys.platform.startswith("linux") and not list(Path("/dev").glob("video*")):
        return Check("camera", WARN, "no /dev/video* device",
                     "plug in a USB camera, or for a Pi camera module use --camera picamera2")
    try:
        from cnn_edge.common.errors import CnnEdgeError
        from cnn_edge.device.sources import open_source

        src = open_source(spec)
    except ImportError as exc:
        return Check("camera", WARN, f"cannot import the camera module ({exc})",
                     "install opencv-python-headless")
    except CnnEdgeError as exc:
        return Check("camera", WARN, exc.message, exc.hint or "")
    try:
        t0 = time.perf_counter()
        frame = src.read()
        waited = time.perf_counter() - t0
    finally:
        src.close()
    if frame is None:
        return Check("camera", WARN, f"camera {spec} opened but gave no frame",
                     "is another program using it? try another index")
    return Check("camera", OK, f"camera {spec}: {frame.shape[1]}x{frame.shape[0]} frame in {waited:.2f} s")


def check_tiny_model(backend: str = "auto") -> Check:
    """Run the shipped tiny int8 model on the shipped evaluation set; compare with its recorded accuracy."""
    from cnn_edge.calibration_data import load_evaluation_set
    from cnn_edge.common.errors import CnnEdgeError
    from cnn_edge.edge_runtime.interpreter import load_model

    name = "tiny model"
    try:
        expected = json.loads(DOCTOR_EXPECTED.read_text())
        data = DOCTOR_MODEL.read_bytes()
    except (OSError, ValueError) as exc:
        return Check(name, FAIL, f"shipped test model missing ({exc})", "reinstall cnn-edge")
    if hashlib.sha256(data).hexdigest() != expected["sha256"]:
        return Check(name, FAIL, "shipped test model does not match its checksum", "reinstall cnn-edge")
    try:
        images, labels = load_evaluation_set()
        t0 = time.perf_counter()
        model = load_model(DOCTOR_MODEL, backend=backend)
        acc = float((model.predict(images) == labels).mean())
        secs = time.perf_counter() - t0
    except CnnEdgeError as exc:
        return Check(name, FAIL, exc.message, exc.hint or "")
    want, tol = float(expected["expected_accuracy"]), float(expected["tolerance_pp"])
    detail = (f"{acc:.2%} on {len(labels):,} images (expected {want:.2%} +/- {tol} pp) "
              f"with {model.backend} {model.backend_version} in {secs:.1f} s")
    if abs(acc - want) * 100 > tol:
        return Check(name, FAIL, detail, "the interpreter gives wrong results: reinstall it or report the "
                     "device (`cnn-edge doctor --json`)")
    return Check(name, OK, detail)


def doctor(cfg: DoctorConfig) -> DoctorResult:
    """Run every check (none raises: a failed check is a row of the report)."""
    checks = [check_python(), check_numpy(), check_arch(), *check_backends(), check_opencv(),
              check_camera(cfg.camera)]
    if cfg.model_check:
        if any(c.name.startswith("backend") and c.status == OK for c in checks):
            checks.append(check_tiny_model(cfg.backend))
        else:
            checks.append(Check("tiny model", SKIP, "no interpreter to run it"))
    from cnn_edge.measure.sysinfo import system_info

    s = system_info()
    detail = f"{s.cpu}, {s.cores} cores" + (f"; board {s.board}" if s.board else "")
    if s.throttled is not None:
        flags = f" ({', '.join(s.throttled_flags)})" if s.throttled_flags else ""
        detail += f"; throttled {s.throttled}{flags}"
    status = WARN if s.throttled_flags else OK
    checks.insert(3, Check("machine", status, detail,
                           "use the official power supply and a heatsink" if s.throttled_flags else ""))
    return DoctorResult(tuple(checks))
