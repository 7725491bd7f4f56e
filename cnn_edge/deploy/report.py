"""The on-device report's summary: the figures a user compares between the workstation and the device."""

from __future__ import annotations

from typing import Any

# (label, key in the summary) in the order the side-by-side table shows them.
ROWS: tuple[tuple[str, str], ...] = (
    ("board / CPU", "machine"),
    ("cores", "cores"),
    ("backend", "backend"),
    ("threads", "threads"),
    ("images", "images"),
    ("accuracy (model)", "accuracy"),
    ("accuracy (float32 reference)", "reference_accuracy"),
    ("accuracy loss (pp)", "accuracy_loss_pp"),
    ("agreement with the reference", "agreement"),
    ("latency p50 (ms)", "p50_ms"),
    ("latency p90 (ms)", "p90_ms"),
    ("latency p99 (ms)", "p99_ms"),
    ("reference latency p50 (ms)", "reference_p50_ms"),
    ("speed-up over the reference", "speedup"),
    ("model load + first inference (ms)", "startup_ms"),
    ("throttled", "throttled"),
    ("device ready (doctor)", "ready"),
)


def device_summary(evaluation: dict[str, Any], doctor: dict[str, Any] | None = None) -> dict[str, Any]:
    """The comparable figures of one `evaluate --json` (and, on the device, its doctor) report."""
    system = evaluation.get("system") or {}
    lat = evaluation.get("latency_ms") or {}
    ref = evaluation.get("reference_latency_ms") or {}
    details = evaluation.get("latency") or {}
    p50, ref_p50 = lat.get("p50"), ref.get("p50")
    startup = None
    if details.get("init_ms") is not None and details.get("first_inference_ms") is not None:
        startup = details["init_ms"] + details["first_inference_ms"]
    summary: dict[str, Any] = {
        "machine": system.get("board") or system.get("cpu") or system.get("arch"),
        "cores": system.get("cores"),
        "backend": f"{evaluation.get('backend')} {evaluation.get('backend_version')}",
        "threads": evaluation.get("threads"),
        "model": evaluation.get("format"),
        "images": evaluation.get("images"),
        "accuracy": evaluation.get("accuracy"),
        "reference_accuracy": evaluation.get("reference_accuracy"),
        "accuracy_loss_pp": evaluation.get("accuracy_loss_pp"),
        "agreement": evaluation.get("agreement"),
        "p50_ms": p50,
        "p90_ms": lat.get("p90"),
        "p99_ms": lat.get("p99"),
        "reference_p50_ms": ref_p50,
        "speedup": ref_p50 / p50 if p50 and ref_p50 else None,
        "startup_ms": startup,
        "throttled": system.get("throttled"),
    }
    if doctor is not None:
        summary["ready"] = doctor.get("ready")
        summary["failed_checks"] = [
            c.get("name") for c in doctor.get("checks", []) if c.get("status") == "fail"
        ]
    return summary


def format_value(key: str, value: Any) -> str:
    """How the side-by-side table shows one figure."""
    if value is None:
        return "-"
    if key in ("accuracy", "reference_accuracy", "agreement"):
        return f"{value:.2%}"
    if key == "accuracy_loss_pp":
        return f"{value:+.2f}"
    if key.endswith("_ms"):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if key == "speedup":
        return f"{value:.1f}x"
    if key == "ready":
        return "yes" if value else "NO"
    if key == "images":
        return f"{value:,}"
    return str(value)
