"""benchmark.json, benchmark.md and the PNGs of a benchmark result (all written atomically)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cnn_edge.common.atomic import write_json, write_text
from cnn_edge.measure.benchmark.config import BenchmarkResult, Row

COLUMNS = (  # (key, header, format)
    ("size_bytes", "size (B)", "{:,}"),
    ("accuracy", "accuracy", "{:.2%}"),
    ("accuracy_change_pp", "vs Keras (pp)", "{:+.2f}"),
    ("photos_accuracy", "photos", "{:.2%}"),
    ("p50_1t_ms", "p50 1 thr (ms)", "{:.3f}"),
    ("p90_1t_ms", "p90 1 thr (ms)", "{:.3f}"),
    ("p50_all_ms", "p50 all (ms)", "{:.3f}"),
    ("p90_all_ms", "p90 all (ms)", "{:.3f}"),
    ("throughput_ips", "images/s (batched)", "{:,.0f}"),
    ("speedup_vs_float32", "speed-up vs float32", "{:.2f}x"),
)


def cell(row: Row, key: str, fmt: str) -> str:
    value = getattr(row, key)
    if row.error:
        return "-" if value is None else fmt.format(value)
    return "n/a" if value is None else fmt.format(value)


def row_dict(row: Row) -> dict[str, Any]:
    d = dataclasses.asdict(row)
    d.pop("samples_1t_ms")
    return d


def to_dict(r: BenchmarkResult) -> dict[str, Any]:
    """The benchmark.json object."""
    return {
        "run": str(r.run), "images": r.images, "photos": r.photos, "backend": r.backend,
        "backend_version": r.backend_version, "cores": r.cores,
        "rows": [row_dict(x) for x in r.rows], "thread_sweep_int8": r.thread_sweep,
        "batch_sweep_int8": r.batch_sweep, "confusion_int8": r.confusion_int8,
        "missing_formats": r.missing_formats, "notes": r.notes, "system": r.system,
        "files": {k: str(v) for k, v in r.files.items()},
    }


def to_markdown(r: BenchmarkResult) -> str:
    s = r.system
    lines = [f"# cnn-edge benchmark: {r.run}", "",
             f"{r.images} evaluation images; {r.backend} {r.backend_version}; {r.cores} cores; "
             f"CPU {s.get('cpu')} ({s.get('arch')}); board {s.get('board') or 'n/a'}; "
             f"throttled {s.get('throttled') or 'n/a'}; Python {s.get('python')}, numpy {s.get('numpy')}", "",
             "| model | " + " | ".join(h for _, h, _ in COLUMNS) + " | error |",
             "|---|" + "---|" * (len(COLUMNS) + 1)]
    for row in r.rows:
        lines.append(f"| {row.name} | " + " | ".join(cell(row, k, f) for k, _, f in COLUMNS)
                     + f" | {row.error or ''} |")
    lines.append("")
    for row in r.rows:
        lines += [f"- {row.name}: {n}" for n in row.notes]
    lines += [f"- {n}" for n in r.notes]
    if r.missing_formats:
        lines.append(f"- not in the run: {', '.join(r.missing_formats)} (make them with `cnn-edge convert`)")
    if r.thread_sweep:
        lines += ["", "## int8 thread sweep (single image)", "",
                  "| threads | p50 (ms) | p90 (ms) |", "|---|---|---|"]
        lines += [f"| {t['threads']} | {t['p50']:.3f} | {t['p90']:.3f} |" for t in r.thread_sweep]
    if r.batch_sweep:
        lines += ["", "## int8 batch sweep", "", "| batch | threads | images/s |", "|---|---|---|"]
        lines += [f"| {b['batch']} | {b['threads']} | {b['images_per_s']:,.0f} |" for b in r.batch_sweep]
    if r.files:
        pngs = [f"![{k}]({Path(v).name})" for k, v in r.files.items() if k.endswith("png")]
        lines += ["", "## Pictures", ""] + pngs
    return "\n".join(lines) + "\n"


def write_outputs(r: BenchmarkResult, *, plots: bool) -> BenchmarkResult:
    """Write the PNGs (if wanted and possible), then benchmark.json and benchmark.md."""
    files: dict[str, Path] = {}
    notes = list(r.notes)
    if plots:
        try:
            from cnn_edge.measure.benchmark.plots import write_plots
        except ImportError:
            notes.append("matplotlib is not installed: the PNGs were skipped (pip install matplotlib)")
        else:
            files.update(write_plots(r))
    files["json"] = r.run / "benchmark.json"
    files["markdown"] = r.run / "benchmark.md"
    r = dataclasses.replace(r, files=files, notes=notes)
    write_json(files["json"], to_dict(r))
    write_text(files["markdown"], to_markdown(r))
    return r
