"""Every numeric option: a huge, negative or non-finite value is one clear line, exit 2, never a crash.

Issue 17 part A: `--smooth 99999999999999999999` gave an OverflowError traceback and then a native
abort (exit 134); huge seeds, epochs, threads and run counts gave tracebacks or hung.
"""

from __future__ import annotations

import pytest

from .conftest import MNIST, run_cli

HUGE = "99999999999999999999"
MODEL = "missing_model.tflite"  # the range is checked before the model is read
COLLECT = ["collect", "--source", "none.avi", "--label", "1", "--no-display"]

CASES = [
    (["infer", "-m", MODEL, "--camera", "--no-display", "--smooth", HUGE], "--smooth"),
    (["infer", "-m", MODEL, "--camera", "--no-display", "--threads", HUGE], "--threads"),
    (["evaluate", "--model", MODEL, "--threads", HUGE], "--threads"),
    (["evaluate", "--model", MODEL, "--runs", HUGE], "--runs"),
    (["evaluate", "--model", MODEL, "--warmup", HUGE], "--warmup"),
    (["evaluate", "--model", MODEL, "--max-accuracy-loss", "nan"], "--max-accuracy-loss"),
    (["benchmark", "--run", ".", "--runs", HUGE], "--runs"),
    (["benchmark", "--run", ".", "--warmup", HUGE], "--warmup"),
    (["benchmark", "--run", ".", "--batch", HUGE], "--batch"),
    ([*COLLECT, "--interval", "nan"], "--interval"),
    ([*COLLECT, "--interval", "1e308"], "--interval"),
    (["deploy", "--run", ".", "--to", "pi@host", "--eval-runs", HUGE], "--eval-runs"),
    (["train", "--seed", HUGE], "--seed"),
    (["train", "--seed", "-1"], "--seed"),
    (["train", "--epochs", HUGE], "--epochs"),
    (["train", "--batch-size", HUGE], "--batch-size"),
    (["train", "--hidden-units", HUGE], "--hidden-units"),
    (["train", "--font-digits", HUGE], "--font-digits"),
    (["train", "--augment", "--other-writer-copies", HUGE], "--other-writer-copies"),
    (["train", "--augment", "--other-writer-copies", "-1"], "--other-writer-copies"),
    (["train", "--learning-rate", "inf"], "--learning-rate"),
    (["convert", "--run", ".", "--seed", HUGE], "--seed"),
    (["convert", "--run", ".", "--calibration-samples", HUGE], "--calibration-samples"),
    (["finetune", "--run", ".", "--samples", ".", "--out", "ft", "--seed", HUGE], "--seed"),
    (["finetune", "--run", ".", "--samples", ".", "--out", "ft", "--mnist-ratio", "1e308"], "--mnist-ratio"),
    (["finetune", "--run", ".", "--samples", ".", "--out", "ft", "--writers-ratio", "-1"], "--writers-ratio"),
]


@pytest.mark.parametrize(("args", "option"), CASES, ids=[" ".join(a[:1] + a[-2:-1]) for a, _ in CASES])
def test_out_of_range_option_is_one_line_exit_2(tmp_path, args, option):
    extra = ["--data", str(MNIST)] if args[0] in ("train", "finetune") else []
    extra += ["--out", str(tmp_path / "run")] if args[0] == "train" else []
    proc = run_cli(*args, *extra, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option} must be"), proc.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "ft").exists()
