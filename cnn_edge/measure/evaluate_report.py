"""`evaluate`'s result as a Markdown report (the `--markdown FILE` output)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: `evaluate` imports this module to write its report
    from cnn_edge.measure.evaluate import EvaluateResult, ModelEvaluation
from cnn_edge.measure.latency import STAT_KEYS


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _mb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:.1f} MiB"


def _latency_rows(name: str, m: ModelEvaluation) -> list[str]:
    lat = m.latency
    if lat is None:
        return []
    s = lat.stats
    cells = " | ".join(f"{getattr(s, k):.3f}" for k in STAT_KEYS)
    return [f"| {name} | {s.count} | {cells} | {lat.init_ms:.1f} | {lat.first_inference_ms:.2f} |"]


def to_markdown(r: EvaluateResult) -> str:
    """A self-contained report: accuracy, loss with its significance, latency, machine."""
    m, ref = r.model, r.reference
    lines = ["# cnn-edge evaluate", "", f"Data: {r.data_source} ({r.images} images"
             + (f", {r.invalid_images} without a readable digit" if r.invalid_images else "")
             + (f" ({r.unreadable_images} of them unreadable files)" if r.unreadable_images else "")
             + ")", ""]
    lines += ["| | model | reference |", "|---|---|---|",
              f"| file | `{m.path.name}` | {f'`{ref.path.name}`' if ref else 'none'} |",
              f"| format | {m.format or '?'} | {(ref.format or '?') if ref else ''} |",
              f"| size | {m.size_bytes:,} B | {f'{ref.size_bytes:,} B' if ref else ''} |",
              f"| accuracy | {_pct(m.accuracy)} | {_pct(ref.accuracy) if ref else ''} |", ""]
    if ref is not None and r.significance is not None:
        s = r.significance
        lines += [
            f"**Accuracy loss: {r.accuracy_loss_pp:+.2f} pp** "
            f"(reference minus model; from {r.reference_source}). "
            f"Top-1 agreement {_pct(r.agreement)}, {len(r.disagreements)} disagreements.",
            "",
            f"Paired test: the reference alone is right on {s.only_reference_right} images, "
            f"the model alone on "
            f"{s.only_model_right}; McNemar exact p = {s.mcnemar_p:.3g}; "
            f"{100 * s.confidence:.0f}% bootstrap interval of the loss "
            f"[{s.ci_low_pp:+.2f}, {s.ci_high_pp:+.2f}] pp "
            f"({'significant' if s.significant else 'not distinguishable from noise'}).",
            "",
        ]
        if r.gate_passed is not None:
            verdict = "PASS" if r.gate_passed else "FAIL"
            lines += [f"Gate: loss <= {r.max_accuracy_loss} pp: **{verdict}**", ""]
    else:
        lines += ["No reference model: no loss, agreement or significance.", ""]
    lines += ["## Per-class accuracy", "", "| class | " + " | ".join(str(c) for c in range(10)) + " |",
              "|---|" + "---|" * 10]
    for name, e in (("model", m), ("reference", ref)):
        if e is not None:
            lines.append(f"| {name} | " + " | ".join("n/a" if a is None else f"{100 * a:.1f}"
                                                    for a in e.per_class_accuracy) + " |")
    lines += ["", f"## Latency (ms, single image, {m.backend} {m.backend_version}, {m.threads} threads)", "",
              "| model | count | " + " | ".join(STAT_KEYS) + " | init | first |",
              "|---|---|" + "---|" * (len(STAT_KEYS) + 2)]
    lines += _latency_rows("model", m) + (_latency_rows("reference", ref) if ref else [])
    sysd = r.system
    lines += ["", "## Machine", "",
              f"- CPU: {sysd.cpu} ({sysd.arch}, {sysd.cores} cores usable)",
              f"- board: {sysd.board or 'n/a'}; throttled: {sysd.throttled or 'n/a'}"
              + (f" ({', '.join(sysd.throttled_flags)})" if sysd.throttled_flags else ""),
              f"- OS: {sysd.os}; Python {sysd.python}; numpy {sysd.numpy}",
              f"- peak RSS of the process: {_mb(r.peak_rss_bytes)}"]
    lines += [f"- note: {n}" for n in r.notes]
    return "\n".join(lines) + "\n"
