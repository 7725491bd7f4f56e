"""Corrupt models: one-byte edits of real models must give one line and exit 1, never a crash.

Every command runs in a subprocess, so a native abort or segfault (exit 134/139) or a hang
fails the test instead of killing pytest.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from cnn_edge.edge_runtime import flatbuffer as fb
from tests.conftest import REPO, run_cli

DOCTOR_MODEL = REPO / "cnn_edge" / "device" / "assets" / "doctor_model.tflite"
COMPLEX64, INT8 = 8, 9


def _graph(data: bytes | bytearray) -> tuple[fb.Table, fb.Table, list[fb.Table]]:
    model = fb.root(data)
    graph = model.tables(2)[0]
    return model, graph, graph.tables(0)


def type_byte(data: bytes | bytearray, role: str) -> int:
    """Offset of the type byte of the model's input (role 'input') or output tensor."""
    _, graph, tensors = _graph(data)
    index = graph.ints(1 if role == "input" else 2)[0]
    pos = tensors[index]._field(1)
    assert pos is not None and data[pos] == INT8
    return pos


def edited(src: Path, dst: Path, edit) -> Path:
    data = bytearray(src.read_bytes())
    edit(data)
    dst.write_bytes(bytes(data))
    return dst


def digit_photo(path: Path, value: int = 0) -> Path:
    img = np.full((120, 120), 255, np.uint8)
    cv2.line(img, (60, 25), (60, 95), value, 8)
    cv2.imwrite(str(path), img)
    return path


def assert_one_line_error(proc, *needles: str) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("bit", [0, 1, 2, 3])
def test_a_flipped_bit_in_the_input_type_is_one_line(converted_run: Path, tmp_path: Path, bit: int) -> None:
    # Bit 0 turns INT8 into COMPLEX64 (today: a wrong label, then `free(): invalid pointer`),
    # bit 1 into COMPLEX128 (a segfault); a model copied without its manifest.
    src = converted_run / "model_int8.tflite"

    def flip(data: bytearray) -> None:
        data[type_byte(data, "input")] ^= 1 << bit

    model = edited(src, tmp_path / "model.tflite", flip)
    photo = digit_photo(tmp_path / "one.png")
    assert_one_line_error(run_cli("infer", "--model", str(model), str(photo), timeout=60), "model.tflite")
    if bit < 2:
        proc = run_cli("evaluate", "--model", str(model), "--reference", str(src), "--limit", "50",
                       timeout=60)
        assert_one_line_error(proc, "model.tflite")


def test_a_flipped_bit_anywhere_fails_the_manifest_check(converted_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(converted_run, run)
    model = run / "model_int8.tflite"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x10  # deep in the weights: the graph is intact, only the sha256 sees it
    model.write_bytes(bytes(data))
    proc = run_cli("infer", "--model", str(model), str(digit_photo(tmp_path / "one.png")), timeout=60)
    assert_one_line_error(proc, "this model does not match its manifest")


def test_an_intact_run_still_loads_with_its_manifest(converted_run: Path, tmp_path: Path) -> None:
    proc = run_cli("infer", "--model", str(converted_run / "model_int8.tflite"),
                   str(digit_photo(tmp_path / "one.png")), "--json", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["label"] is not None


def test_a_model_failing_at_its_first_invoke_is_one_line(tmp_path: Path) -> None:
    # The output's type turned COMPLEX64: allocation passes, the first invoke raises RuntimeError.
    def to_complex(data: bytearray) -> None:
        data[type_byte(data, "output")] = COMPLEX64

    model = edited(DOCTOR_MODEL, tmp_path / "m.tflite", to_complex)
    assert_one_line_error(run_cli("infer", "--model", str(model), str(digit_photo(tmp_path / "a.png")),
                                  timeout=60), "m.tflite")


def _empty_vector(role: str):
    def edit(data: bytearray) -> None:
        _, graph, _ = _graph(data)
        start, _count = graph.vector(1 if role == "inputs" else 2)
        struct.pack_into("<I", data, start - 4, 0)
    return edit


def _batch_zero(data: bytearray) -> None:
    _, graph, tensors = _graph(data)
    start, _count = tensors[graph.ints(1)[0]].vector(0)
    struct.pack_into("<i", data, start, 0)


@pytest.mark.parametrize("edit,needle", [
    (_empty_vector("inputs"), "0 inputs"),
    (_empty_vector("outputs"), "0 outputs"),
    (_batch_zero, "(0, 28, 28)"),
])
def test_missing_inputs_outputs_or_batch_zero_are_one_line(tmp_path: Path, edit, needle: str) -> None:
    model = edited(DOCTOR_MODEL, tmp_path / "m.tflite", edit)
    photo = digit_photo(tmp_path / "a.png")
    assert_one_line_error(run_cli("infer", "--model", str(model), str(photo), timeout=60), needle)


def test_garbage_and_truncated_models_are_one_line(tmp_path: Path) -> None:
    photo = digit_photo(tmp_path / "a.png")
    data = DOCTOR_MODEL.read_bytes()
    for name, content in [("cut.tflite", data[: len(data) // 3]), ("junk.tflite", b"TFL3" * 100),
                          ("zeros.tflite", bytes(108))]:
        (tmp_path / name).write_bytes(content)
        assert_one_line_error(run_cli("infer", "--model", str(tmp_path / name), str(photo), timeout=60), name)


def test_an_interpreter_error_with_an_empty_message_is_still_one_line(tmp_path: Path, monkeypatch) -> None:
    from cnn_edge.common.errors import ModelError
    from cnn_edge.edge_runtime import interpreter

    class Refuses:
        def __init__(self, **_kwargs) -> None:
            raise RuntimeError("")

    monkeypatch.setattr(interpreter, "_import_backend", lambda backend: ("litert", Refuses))
    with pytest.raises(ModelError, match="RuntimeError"):
        interpreter.load_model(DOCTOR_MODEL)


def _nan_bias(data: bytearray) -> None:
    """Every float32 bias of 10 values (the logits layer's) becomes NaN."""
    model, _, tensors = _graph(data)
    buffers = model.tables(4)
    for tensor in tensors:
        if tensor.ints(0) == [10] and tensor.scalar(1, "<b", 0) == 0:
            vec = buffers[tensor.scalar(2, "<I", 0)].vector(0)
            if vec is not None and vec[1] == 40:
                struct.pack_into("<10f", data, vec[0], *([float("nan")] * 10))
                return
    raise AssertionError("no 10-value float32 bias found")


def test_nan_outputs_are_an_error_per_image_and_json_stays_valid(converted_run: Path, tmp_path: Path) -> None:
    model = edited(converted_run / "model_float32.tflite", tmp_path / "nan.tflite", _nan_bias)
    photos = [digit_photo(tmp_path / "a.png"), digit_photo(tmp_path / "b.png", 40)]
    proc = run_cli("infer", "--model", str(model), *map(str, photos), "--json", timeout=60)
    assert proc.returncode == 1, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]  # strict JSON: NaN would be refused
    assert [r["source"] for r in records] == [str(p) for p in photos]
    assert all("non-finite" in r["error"] and "label" not in r for r in records)
    assert "Traceback" not in proc.stderr
    reference = converted_run / "model_float32.tflite"
    proc = run_cli("evaluate", "--model", str(model), "--reference", str(reference), "--limit", "50",
                   timeout=60)
    assert_one_line_error(proc, "non-finite")


def test_the_cli_error_line_is_never_empty(capsys) -> None:
    import typer

    from cnn_edge.cli.running import user_errors
    from cnn_edge.common.errors import ModelError

    with pytest.raises(typer.Exit) as stop:
        with user_errors():
            raise ModelError("")
    assert stop.value.exit_code == 1
    assert capsys.readouterr().err == "error: ModelError\n"
