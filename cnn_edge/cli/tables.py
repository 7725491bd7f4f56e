"""rich tables of the commands' results (built here, printed by `cnn_edge.cli.render`)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def evaluate_table(d: dict[str, Any]) -> Table:
    """Model vs reference, from `EvaluateResult.to_dict()`."""
    t = Table(title=f"cnn-edge evaluate ({d['images']} images, {d['backend']} {d['backend_version']}, "
                    f"{d['threads']} threads)")
    t.add_column("")
    t.add_column("model", justify="right")
    t.add_column("reference", justify="right")
    lat, rlat = d["latency_ms"] or {}, d["reference_latency_ms"] or {}
    det, rdet = d["latency"] or {}, d["reference_latency"] or {}
    t.add_row("file", str(d["model"]).rsplit("/", 1)[-1], str(d["reference"] or "-").rsplit("/", 1)[-1])
    t.add_row("format", d["format"] or "?", d["reference_format"] or "-")
    t.add_row("size (bytes)", f"{d['model_size_bytes']:,}",
              "-" if d["reference_size_bytes"] is None else f"{d['reference_size_bytes']:,}")
    t.add_row("accuracy", _pct(d["accuracy"]), _pct(d["reference_accuracy"]))
    for k in ("p50", "p90", "p99", "mean", "std", "min", "max"):
        t.add_row(f"latency {k} (ms)", _ms(lat.get(k)), _ms(rlat.get(k)))
    t.add_row("init / first (ms)", f"{_ms(det.get('init_ms'))} / {_ms(det.get('first_inference_ms'))}",
              f"{_ms(rdet.get('init_ms'))} / {_ms(rdet.get('first_inference_ms'))}")
    return t


def evaluate_summary(d: dict[str, Any]) -> list[str]:
    """The lines under the table: loss, agreement, significance, gate."""
    if d["accuracy_loss_pp"] is None:
        return ["no reference model: pass --reference to measure the accuracy loss"] + d["notes"]
    s = d["significance"]
    lines = [
        f"accuracy loss {d['accuracy_loss_pp']:+.2f} pp (reference - model), "
        f"agreement {_pct(d['agreement'])}, "
        f"{d['disagreements']} disagreements",
        f"McNemar exact p = {s['mcnemar_p']:.3g} (reference-only right {s['only_reference_right']}, "
        f"model-only right {s['only_model_right']}); {100 * s['confidence']:.0f}% bootstrap interval "
        f"[{s['ci_low_pp']:+.2f}, {s['ci_high_pp']:+.2f}] pp",
    ]
    if d["disagreements_dir"]:
        lines.append(f"disagreements saved to {d['disagreements_dir']}")
    if d["gate_passed"] is not None:
        verdict = "PASS" if d["gate_passed"] else "FAIL"
        loss, limit = d["accuracy_loss_pp"], d["max_accuracy_loss_pp"]
        lines.append(f"gate: loss {loss:+.2f} pp <= {limit} pp: {verdict}")
    return lines + d["notes"]


def benchmark_table(result: Any) -> Table:
    """One row per model of a `BenchmarkResult` (the same columns as benchmark.md)."""
    from cnn_edge.measure.benchmark.report import COLUMNS, cell

    t = Table(title=f"cnn-edge benchmark ({result.images} images, {result.backend} {result.backend_version}, "
                    f"{result.cores} cores)")
    t.add_column("model")
    for _, header, _ in COLUMNS:
        t.add_column(header, justify="right")
    t.add_column("error")
    for row in result.rows:
        t.add_row(row.name, *(cell(row, k, f) for k, _, f in COLUMNS), row.error or "")
    return t


def doctor_table(result: Any) -> Table:
    """One row per doctor check, with the fix where there is one."""
    colour = {"ok": "green", "warn": "yellow", "fail": "red", "skip": "dim"}
    t = Table(title="cnn-edge doctor")
    for col in ("check", "status", "detail", "fix"):
        t.add_column(col, overflow="fold")
    for c in result.checks:
        # A styled Text, not markup: the CLI prints with markup off (an "[edge]" in a fix must show).
        t.add_row(c.name, Text(c.status, style=colour.get(c.status, "white")), c.detail, c.fix)
    return t


def deploy_table(report: dict[str, Any]) -> Table:
    """The device's figures beside the workstation's, from a `cnn-edge deploy` report."""
    from cnn_edge.deploy.report import ROWS, format_value

    device, here = report["summary"]["device"], report["summary"]["workstation"]
    t = Table(title=f"cnn-edge deploy: {device.get('model') or 'model'} on {report['destination']}")
    t.add_column("")
    t.add_column("this computer", justify="right")
    t.add_column("device", justify="right")
    for label, key in ROWS:
        if key in device or key in here:
            t.add_row(label, format_value(key, here.get(key)) if key in here else "",
                      format_value(key, device.get(key)))
    return t


def convert_table(result: Any) -> Table:
    """One row per written format: size, share of float32, accuracy and loss on the test images."""
    ref = result.models["float32"]
    t = Table(title=f"cnn-edge convert: {result.run_dir}")
    for col in ("format", "bytes", "vs float32", "accuracy", "loss"):
        t.add_column(col, justify="left" if col == "format" else "right")
    if result.keras_accuracy is not None:
        t.add_row("keras", "", "", f"{result.keras_accuracy:.2%}", "")
    for name, m in result.models.items():
        loss = result.accuracy_loss_pp(name)
        t.add_row(
            name,
            f"{m.size_bytes:,}",
            f"{m.size_bytes / ref.size_bytes:.1%}",
            "" if m.accuracy is None else f"{m.accuracy:.2%}",
            "" if loss is None or name == "float32" else f"{loss:+.2f} pp",
        )
    return t
def fleet_table(result: Any) -> Table:
    """One row per device of a `FleetResult`: status, figures, what was copied, what to do."""
    from cnn_edge.deploy.fleet_report import COLUMNS, cell

    colour = {"ok": "green", "skipped": "dim"}
    t = Table(title=f"cnn-edge deploy: {result.run.name} to {len(result.devices)} devices")
    for col in ("device", "status", *(h for h, _ in COLUMNS), "copied"):
        t.add_column(col, overflow="fold")
    for d in result.devices:
        s = d.summary or {}
        status = Text(d.status, style=colour.get(d.status, "red"))
        copied = str(len(d.copied)) if d.copied else "-"
        t.add_row(d.name, status, *(cell(k, s.get(k)) for _, k in COLUMNS), copied)
    return t


def fleet_lines(result: Any) -> list[str]:
    """Under the table: the summary, each failed device's line, and where the report is."""
    from cnn_edge.deploy.fleet import OK
    from cnn_edge.deploy.fleet_report import spread_line

    lines = [spread_line(result.summary)]
    lines += [f"{d.name}: {d.status}: {d.problem}" for d in result.devices if d.status != OK]
    lines.append(f"report: {result.json_path} and {result.md_path}"
                 + (f" and {result.png_path}" if result.png_path else ""))
    if result.png_note:
        lines.append(f"note: {result.png_note}")
    return lines
