"""The gates a fleet rollout checks on each device's own report before the device counts as done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Gates:
    """Limits on the device's figures (None: not checked); doctor's verdict is always checked."""

    max_accuracy_loss_pp: float | None = None
    max_p50_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"max_accuracy_loss_pp": self.max_accuracy_loss_pp, "max_p50_ms": self.max_p50_ms}


def check_gates(device: dict[str, Any], gates: Gates) -> list[str]:
    """What fails, one phrase each, from the report's device summary (deploy.report.device_summary).

    A gate whose figure the device did not measure fails: a rollout only goes on with evidence.
    """
    failures = []
    if device.get("ready") is not True:
        failed = ", ".join(device.get("failed_checks") or []) or "unknown"
        failures.append(f"doctor says not ready ({failed} failed)")
    loss = device.get("accuracy_loss_pp")
    if gates.max_accuracy_loss_pp is not None:
        if loss is None:
            failures.append("accuracy loss not measured (no float32 reference on the device)")
        elif loss > gates.max_accuracy_loss_pp:
            failures.append(f"accuracy loss {loss:+.2f} pp > {gates.max_accuracy_loss_pp} pp")
    p50 = device.get("p50_ms")
    if gates.max_p50_ms is not None:
        if p50 is None:
            failures.append("latency p50 not measured (--eval-runs 0?)")
        elif p50 > gates.max_p50_ms:
            failures.append(f"latency p50 {p50:.3f} ms > {gates.max_p50_ms} ms")
    return failures
