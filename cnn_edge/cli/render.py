"""Everything the commands print: one place for the output's words and layout.

Results go to stdout (JSON with --json); notices, progress and errors to stderr, one line each.
"""

from __future__ import annotations

import json
from typing import Any

import typer


def err(message: str) -> None:
    """One line on stderr."""
    typer.echo(message, err=True)


def out(message: str) -> None:
    """One line on stdout."""
    typer.echo(message)


def json_line(obj: Any) -> None:
    """One JSON object on one line of stdout."""
    typer.echo(json.dumps(obj))


def plain_console(piped_width: int | None = None):  # -> rich.console.Console (imported lazily)
    """A rich console that prints every string as it is, and wide enough when piped.

    Markup off: rich would take "[edge]" in an install hint, or a bracket in a path, for a style
    tag and drop it. Piped into a file, `piped_width` columns keep each table row on one line.
    """
    from rich.console import Console

    console = Console(markup=False, highlight=False)
    if piped_width and not console.is_terminal:
        console = Console(markup=False, highlight=False, width=piped_width)
    return console


def artifacts(paths: dict[str, Any]) -> None:
    for name, path in paths.items():
        out(f"  {name:<8} {path}")


def train_result(result: Any) -> None:
    out(f"test accuracy {result.test_accuracy:.2%} (loss {result.test_loss:.4f}), "
        f"{result.params:,} parameters, {result.epochs_run} epochs in {result.train_seconds:.0f} s")
    artifacts(result.artifacts)


def convert_result(result: Any, seed: int) -> None:
    from cnn_edge.cli.tables import convert_table

    console = plain_console()
    console.print(convert_table(result))
    if "int8" in result.models:
        loss = result.accuracy_loss_pp("int8")
        loss_text = "" if loss is None else f", accuracy loss {loss:+.2f} pp"
        console.print(f"int8 is {result.size_ratio('int8'):.1%} of float32{loss_text} "
                      f"({result.calibration_samples} calibration images, seed {seed})")
    if result.debug_quant_csv is not None:
        console.print(f"per-layer quantization report: {result.debug_quant_csv}")
        for layer in result.worst_layers:
            flag = "  <- above 0.7" if layer["flagged"] else ""
            short = layer["tensor_name"].split(";")[0]  # a fused op's name lists every folded op
            console.print(f"  rmse/scale {layer['rmse_over_scale']:.3f}  {layer['op_name']:<16} "
                          f"{short}{flag}")
    console.print(f"files: {', '.join(m.path.name for m in result.models.values())} and manifest.json "
                  f"in {result.run_dir}")


def finetune_result(r: Any) -> None:
    out(f"held-out samples ({r.samples_holdout}): {r.holdout_before:.2%} -> {r.holdout_after:.2%}; "
        f"MNIST test: {r.mnist_before:.2%} -> {r.mnist_after:.2%} "
        f"({r.samples_train} samples + {r.mnist_images} MNIST images"
        f"{f' + {r.writer_images} other writers' if r.writer_images else ''}, {r.train_seconds:.0f} s)")
    artifacts(r.artifacts)
    out(f"next: cnn-edge convert --run {r.run_dir} --int8")


class FramePrinter:
    """`infer --camera`: every frame as JSON, or a line every 30 frames and at each new label."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.last: object = None

    def __call__(self, r: Any) -> None:
        if self.as_json:
            json_line(r.to_json())
        elif r.frame % 30 == 0 or r.label != self.last:
            conf = "" if r.confidence is None else f" ({r.confidence:.0%})"
            label = "no digit" if r.label is None else str(r.label)
            out(f"frame {r.frame:>6}  {label}{conf}  {r.fps:.1f} FPS  {r.latency_ms:.2f} ms")
        self.last = r.label


class RecordPrinter:
    """`infer` on files: one JSON line per file, or a table whose header comes with its first row
    (so a model error prints only its own line)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.started = False

    def __call__(self, rec: Any) -> None:
        if self.as_json:
            json_line(rec.to_json())
            return
        if not self.started:
            out(f"{'label':>5}  {'conf':>6}  {'model ms':>8}  {'prep ms':>7}  source")
            self.started = True
        if rec.error is not None:
            out(f"{'error':>5}  {'':>6}  {'':>8}  {'':>7}  {rec.error}")
            return
        p = rec.prediction
        label = "-" if p.label is None else str(p.label)
        conf = "no digit" if p.confidence is None else f"{p.confidence:.1%}"
        out(f"{label:>5}  {conf:>6}  {p.latency_ms:8.3f}  {p.preprocess_ms:7.2f}  {rec.source}")


def evaluate_result(d: dict[str, Any]) -> None:
    from cnn_edge.cli.tables import evaluate_summary, evaluate_table

    console = plain_console()
    console.print(evaluate_table(d))
    for line in evaluate_summary(d):
        console.print(line)


def benchmark_result(result: Any) -> None:
    from cnn_edge.cli.tables import benchmark_table

    console = plain_console(piped_width=200)  # piped: do not squeeze 12 columns into 80 characters
    console.print(benchmark_table(result))
    for row in result.rows:
        for note in row.notes:
            console.print(f"{row.name}: {note}")
    for note in result.notes:
        console.print(note)
    for name, path in result.files.items():
        console.print(f"  {name:<14} {path}")


def broken_models(result: Any) -> bool:
    """A model file of the run that could not be measured: one line; whether there was one."""
    broken = [row for row in result.rows if row.error]
    if broken:
        what = "; ".join(f"{row.file}: {row.error}" for row in broken)
        err(f"error: {len(broken)} of {len(result.rows)} models could not be measured ({what})")
    return bool(broken)


def doctor_result(result: Any) -> None:
    from cnn_edge.cli.tables import doctor_table

    plain_console(piped_width=200).print(doctor_table(result))
    out("ready" if result.ready else "NOT ready: see the failed checks above")


def deploy_result(result: Any) -> None:
    copied = ", ".join(result.copied) if result.copied else "nothing (all files were already there)"
    out(f"{result.destination}:{result.remote_path}: copied {copied}; sha256 verified")
    if result.report is None:
        return
    from cnn_edge.cli.tables import deploy_table

    plain_console(piped_width=120).print(deploy_table(result.report))
    failed = result.report["summary"]["device"].get("failed_checks") or []
    if failed:
        out(f"device not ready: {', '.join(failed)} failed (run cnn-edge doctor there)")
    for note in result.report.get("notes", []):
        out(f"note: {note}")
    out(f"report: {result.report_path}")


def fleet_result(result: Any) -> None:
    """A fleet rollout: one row per device, then the summary and each failed device's line."""
    from cnn_edge.cli.tables import fleet_lines, fleet_table

    plain_console(piped_width=160).print(fleet_table(result))
    out("\n".join(fleet_lines(result)))


def bundle_result(result: Any) -> None:
    for f in result.files:
        out(f"  {result.top_dir}/{f.name}  {f.size_bytes:,} B")
    out(f"wrote {result.out} ({result.size_bytes:,} B, sha256 {result.sha256[:12]}...); "
        f"on the device: tar -xzf {result.out.name} && cd {result.top_dir} && sha256sum -c SHA256SUMS")


def collect_result(result: Any) -> None:
    for problem in result.problems:
        err(f"skipped: {problem}")
    out(result.summary_text())


def camera_summary(summary: Any, as_json: bool) -> None:
    """The camera run's summary: on stdout, or on stderr when stdout carries JSON lines."""
    typer.echo(f"summary: {summary.text()}", err=as_json)
