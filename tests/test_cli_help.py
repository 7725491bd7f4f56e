"""`--help` shows every help text whole (rich markup once swallowed the "[default: ...]" notes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

CLI = sorted((Path(__file__).resolve().parent.parent / "cnn_edge" / "cli").glob("*_commands.py"))

# One default note per command, written in its help texts; each must reach the screen.
NOTES = {
    "train": "default: 10; 20 with --augment",
    "convert": "default: RUN/model.keras",
    "infer": "default: all cores",
    "evaluate": "default: the shipped 10,000 test images",
    "deploy": "default: float32, int8",
    "bundle": "default: float32, int8",
    "finetune": "default: as for train",
}


@pytest.mark.parametrize("command", sorted(NOTES))
def test_default_notes_in_help_texts_are_shown(command: str) -> None:
    res = run_cli(command, "--help", env={"COLUMNS": "400"})
    assert res.returncode == 0, res.stderr
    shown = " ".join(res.stdout.replace("│", " ").split())
    assert NOTES[command] in shown, f"{NOTES[command]!r} missing from `cnn-edge {command} --help`"


def test_no_help_text_uses_a_lowercase_bracket_tag() -> None:
    """rich reads "[word..." as a style tag and drops it: help texts say "(default: ...)" instead."""
    assert CLI, "no command modules found in cnn_edge/cli/"
    for module in CLI:
        assert not re.search(r'help="[^"]*\[[a-z#/@]', module.read_text()), module.name


def test_brackets_in_printed_text_and_tables_are_kept() -> None:
    """An install hint's "[edge]" or a path's brackets must reach the screen (rich markup is off)."""
    from cnn_edge.cli.render import plain_console
    from cnn_edge.cli.tables import doctor_table
    from cnn_edge.device.doctor import Check, DoctorResult

    console = plain_console()
    result = DoctorResult(checks=(Check("litert", "fail", "runs/[exp1]", "pip install 'cnn-edge[edge]'"),))
    with console.capture() as out:
        console.print(doctor_table(result))
        console.print("see cnn-edge[edge] and [link]")
    text = out.get()
    assert "pip install 'cnn-edge[edge]'" in text
    assert "runs/[exp1]" in text and "see cnn-edge[edge] and [link]" in text
