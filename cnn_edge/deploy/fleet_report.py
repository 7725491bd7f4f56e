"""The fleet report: RUN/fleet-TIME.json and .md, and a PNG of p50 per device when matplotlib is installed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cnn_edge.common.atomic import atomic_path, write_text

if TYPE_CHECKING:  # fleet.py imports this module when it saves its result
    from cnn_edge.deploy.fleet import FleetResult

# (header, key of a device's summary) for the per-device columns of the table.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("board", "machine"),
    ("backend", "backend"),
    ("accuracy", "accuracy"),
    ("loss (pp)", "accuracy_loss_pp"),
    ("p50 (ms)", "p50_ms"),
    ("p99 (ms)", "p99_ms"),
)
NO_MATPLOTLIB = (
    "no PNG: matplotlib is not installed here (the edge install has none); the .md has the figures"
)


def summarize(outcomes: Sequence[Any]) -> dict[str, Any]:
    """Counts by status and the spread of p50 over the devices that measured it."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    p50s = [o.summary["p50_ms"] for o in outcomes if o.summary and o.summary.get("p50_ms") is not None]
    spread = None
    if p50s:
        spread = {"min": min(p50s), "median": statistics.median(p50s), "max": max(p50s), "devices": len(p50s)}
    return {"devices": len(outcomes), "by_status": counts, "p50_ms": spread}


def save_fleet_report(result: FleetResult, started: dt.datetime) -> FleetResult:
    """Write the .json and .md atomically beside the run's device reports (and the .png if it can)."""
    stem = result.run / f"fleet-{started:%Y%m%dT%H%M%SZ}"
    png_path, png_note = None, NO_MATPLOTLIB
    try:
        import matplotlib  # noqa: F401  (optional: the edge install has none)
    except ImportError:
        pass
    else:
        png_path, png_note = stem.with_suffix(".png"), None
        _plot_p50(result, png_path)
    result = dataclasses.replace(
        result,
        json_path=stem.with_suffix(".json"),
        md_path=stem.with_suffix(".md"),
        png_path=png_path,
        png_note=png_note,
    )
    write_text(result.json_path, json.dumps(result.to_dict(), indent=2) + "\n")
    write_text(result.md_path, fleet_markdown(result))
    return result


def cell(key: str, value: Any) -> str:
    """How a per-device figure is shown in the .md and the CLI's table."""
    if value is None:
        return "-"
    if key == "accuracy":
        return f"{value:.2%}"
    if key == "accuracy_loss_pp":
        return f"{value:+.2f}"
    if key.endswith("_ms"):
        return f"{value:.3f}"
    return str(value)


def spread_line(summary: dict[str, Any]) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in summary["by_status"].items())
    line = f"{summary['devices']} devices: {counts}"
    p50 = summary.get("p50_ms")
    if p50:
        line += (
            f"; p50 over {p50['devices']} devices: min {p50['min']:.3f}, "
            f"median {p50['median']:.3f}, max {p50['max']:.3f} ms"
        )
    return line


def gate_text(gates: dict[str, Any]) -> str:
    parts = []
    if gates["max_accuracy_loss_pp"] is not None:
        parts.append(f"accuracy loss <= {gates['max_accuracy_loss_pp']} pp")
    if gates["max_p50_ms"] is not None:
        parts.append(f"p50 <= {gates['max_p50_ms']} ms")
    return ", ".join([*parts, "doctor ready"])


def fleet_markdown(result: FleetResult) -> str:
    gates = result.settings["gates"]
    lines = [
        f"# cnn-edge fleet deploy: {result.run.name}",
        "",
        f"- Started: {result.started_at}; run: `{result.run}`",
        f"- Parallel: {result.settings['parallel']}, canaries: {result.settings['canary']}, "
        f"gates: {gate_text(gates)}",
        f"- {spread_line(result.summary)}",
        "",
        "| device | stage | status | "
        + " | ".join(h for h, _ in COLUMNS)
        + " | copied | time (s) | what to do |",
        "|---|---|---|" + "---|" * len(COLUMNS) + "---|---|---|",
    ]
    for d in result.devices:
        s = d.summary or {}
        copied = ", ".join(d.copied) if d.copied else "-"
        problem = (d.problem or "").replace("|", "/")
        lines.append(
            f"| {d.name} | {d.stage} | {d.status} | "
            + " | ".join(cell(k, s.get(k)) for _, k in COLUMNS)
            + f" | {copied} | {d.seconds:.1f} | {problem} |"
        )
    lines += [
        "",
        f"Each device's own report: `device-NAME.json` beside this file. {result.png_note or ''}".rstrip(),
    ]
    return "\n".join(lines) + "\n"


def _plot_p50(result: FleetResult, path: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on a workstation over SSH, nor in CI
    import matplotlib.pyplot as plt

    measured = [
        (d.name, d.summary["p50_ms"], d.status)
        for d in result.devices
        if d.summary and d.summary.get("p50_ms") is not None
    ]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(measured) + 2), 4.0))
    colours = ["tab:blue" if status == "ok" else "tab:red" for _, _, status in measured]
    ax.bar([n for n, _, _ in measured], [p for _, p, _ in measured], color=colours)
    ax.set_ylabel("latency p50 (ms)")
    ax.set_title(f"{result.run.name}: latency p50 per device")
    ax.set_xlabel("red: failed a gate (rolled back); devices without figures are not shown", fontsize=8)
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
