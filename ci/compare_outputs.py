"""Compare the edge runtime's answers on x86 with the same commands' answers under aarch64 emulation.

Usage (run on x86 by ci/pi-emulation.sh; exit 1 with one line per problem on any mismatch):
  compare_outputs.py infer    X86.jsonl ARM.jsonl NAME SCALE  `infer --json` (files or --camera)
  compare_outputs.py raw      X86.npz   ARM.npz   NAME        raw int8 outputs (raw_outputs.py)
  compare_outputs.py evaluate X86.json  ARM.json  NAME        `evaluate --json`
  compare_outputs.py pixels   X86_DIR   ARM_DIR   NAME        `infer --save-preprocessed` PNGs
NAME labels the summary line (e.g. "infer files, cortex-a72"). MODE-info (e.g. infer-info) prints the
differences as notes and exits 0.

Rules: labels must be identical for every image/frame. Int8 outputs may differ by at most one
quantization step (SCALE = the output tensor's scale). The JSON gives softmax confidences, not
logits: if every logit moves by at most one step s, each log-probability moves by at most 2s, so a
confidence p may move by at most p * (exp(2s) - 1) (+ 1e-6 for the JSON's rounding). Latency and
other timing fields are ignored (emulated timings mean nothing).
Prints one summary line per comparison.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

ROUNDING = 1e-6  # the JSON rounds confidences to 6 decimals


def _read_jsonl(path: str) -> list[dict]:
    records = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def _key(rec: dict) -> str:
    return f"frame {rec['frame']}" if "frame" in rec else str(rec.get("source"))


def compare_infer(x86_path: str, arm_path: str, scale: float, what: str) -> list[str]:
    x86, arm = _read_jsonl(x86_path), _read_jsonl(arm_path)
    problems = []
    if not x86:
        problems.append(f"{what}: no JSON records from x86 in {x86_path}")
    if len(x86) != len(arm):
        problems.append(f"{what}: x86 gave {len(x86)} records, aarch64 {len(arm)}")
    factor = math.expm1(2 * scale)
    identical = 0
    max_diff = 0.0
    worst_ratio = 0.0  # |diff| / allowed
    for a, b in zip(x86, arm, strict=False):  # a length mismatch is reported above
        ka, kb = _key(a), _key(b)
        if ka != kb:
            problems.append(f"{what}: record order differs: x86 {ka}, aarch64 {kb}")
            continue
        if a.get("error") or b.get("error"):
            if a.get("error") != b.get("error"):
                problems.append(f"{what}: {ka}: error x86 {a.get('error')!r}, aarch64 {b.get('error')!r}")
            continue
        if a.get("label") != b.get("label"):
            problems.append(f"{what}: {ka}: label x86 {a.get('label')}, aarch64 {b.get('label')}")
            continue
        same, diffs = _compare_confidences(a, b, ka, factor, what, problems)
        for diff, allowed in diffs:
            max_diff = max(max_diff, diff)
            worst_ratio = max(worst_ratio, diff / allowed)
        identical += same
    if not problems:
        print(f"  ok {what}: {len(x86)} records, labels identical; confidences identical in "
              f"{identical}/{len(x86)}, max |difference| {max_diff:.6f} "
              f"({worst_ratio:.0%} of the one-step bound)")
    return problems


def _compare_confidences(a: dict, b: dict, ka: str, factor: float, what: str,
                         problems: list[str]) -> tuple[bool, list[tuple[float, float]]]:
    """One record's confidence and top-3 confidences, x86 against aarch64; problems are appended.

    Returns whether every figure is identical, and each (|difference|, allowed difference).
    """
    # top3 is compared by label: near-ties (within one step) may swap places or the 3rd entry.
    ta = {t["label"]: float(t["confidence"]) for t in a.get("top3") or []}
    tb = {t["label"]: float(t["confidence"]) for t in b.get("top3") or []}
    pairs = [("confidence", a.get("confidence"), b.get("confidence"))]
    pairs += [(f"top3 label {lab}", ta[lab], tb[lab]) for lab in ta if lab in tb]
    third_a, third_b = min(ta.values(), default=0.0), min(tb.values(), default=0.0)
    pairs += [(f"top3 label {lab} (x86 only)", p, third_b) for lab, p in ta.items() if lab not in tb]
    pairs += [(f"top3 label {lab} (aarch64 only)", third_a, p) for lab, p in tb.items() if lab not in ta]
    same = [t["label"] for t in a.get("top3") or []] == [t["label"] for t in b.get("top3") or []]
    diffs = []
    for name, pa, pb in pairs:
        if pa is None or pb is None:
            if pa != pb:
                problems.append(f"{what}: {ka}: {name} x86 {pa}, aarch64 {pb}")
            continue
        diff = abs(pa - pb)
        allowed = max(pa, pb) * factor + ROUNDING
        diffs.append((diff, allowed))
        same &= diff == 0
        if diff > allowed:
            problems.append(
                f"{what}: {ka}: {name} x86 {pa:.6f}, aarch64 {pb:.6f}: differs by {diff:.6f}, more than"
                f" one quantization step allows ({allowed:.6f})"
            )
    return same, diffs


def compare_raw(x86_path: str, arm_path: str, what: str) -> list[str]:
    a, b = np.load(x86_path), np.load(arm_path)
    ra, rb = a["raw"], b["raw"]
    if ra.shape != rb.shape or ra.dtype != rb.dtype:
        return [f"{what}: x86 outputs {ra.shape} {ra.dtype}, aarch64 {rb.shape} {rb.dtype}"]
    problems = []
    if float(a["scale"]) != float(b["scale"]) or int(a["zero_point"]) != int(b["zero_point"]):
        problems.append(f"{what}: output quantization differs: x86 {a['scale']}/{a['zero_point']}, "
                        f"aarch64 {b['scale']}/{b['zero_point']}")
    if not np.issubdtype(ra.dtype, np.integer):
        return problems + [f"{what}: output dtype {ra.dtype} is not integer (expected an int8 model)"]
    steps = np.abs(ra.astype(np.int32) - rb.astype(np.int32))
    labels_a, labels_b = ra.argmax(1), rb.argmax(1)
    names = a["names"]
    for i in np.flatnonzero(labels_a != labels_b):
        problems.append(f"{what}: {names[i]}: label x86 {labels_a[i]}, aarch64 {labels_b[i]}")
    for i in np.flatnonzero(steps.max(1) > 1):
        problems.append(f"{what}: {names[i]}: int8 outputs differ by {steps[i].max()} quantization steps "
                        f"(x86 {ra[i].tolist()}, aarch64 {rb[i].tolist()})")
    if not problems:
        n_same = int((steps.max(1) == 0).sum())
        print(f"  ok {what}: {len(ra)} inputs, labels identical; int8 outputs bit-identical for {n_same}/"
              f"{len(ra)}, max difference {int(steps.max())} quantization step(s) "
              f"[x86 {a['backend']}, aarch64 {b['backend']}]")
    return problems


# Fields of `evaluate --json` that follow from the predicted labels alone (so must be identical).
EVAL_FIELDS = ("images", "invalid_images", "accuracy", "reference_accuracy", "accuracy_loss_pp",
               "agreement", "per_class_accuracy", "reference_per_class_accuracy", "disagreements",
               "disagreement_indices", "format", "reference_format", "data")
SIGNIFICANCE_FIELDS = ("n", "only_reference_right", "only_model_right", "mcnemar_p")


def compare_evaluate(x86_path: str, arm_path: str, what: str) -> list[str]:
    a, b = json.loads(Path(x86_path).read_text()), json.loads(Path(arm_path).read_text())
    problems = []
    for f in EVAL_FIELDS:
        if a.get(f) != b.get(f):
            problems.append(f"{what}: {f}: x86 {str(a.get(f))[:120]}, aarch64 {str(b.get(f))[:120]}")
    sa, sb = a.get("significance") or {}, b.get("significance") or {}
    for f in SIGNIFICANCE_FIELDS:
        if sa.get(f) != sb.get(f):
            problems.append(f"{what}: significance.{f}: x86 {sa.get(f)}, aarch64 {sb.get(f)}")
    if (a.get("system") or {}).get("arch") == (b.get("system") or {}).get("arch"):
        problems.append(f"{what}: both runs report arch {(a.get('system') or {}).get('arch')}: not emulated?")
    if not problems:
        print(f"  ok {what}: {a.get('images')} images, accuracy {a.get('accuracy')} (reference "
              f"{a.get('reference_accuracy')}), {a.get('disagreements')} disagreements with the reference: "
              f"all identical [arch {a['system']['arch']} vs {b['system']['arch']}]")
    return problems


def compare_pixels(x86_dir: str, arm_dir: str, what: str) -> list[str]:
    import cv2

    xa = sorted(p.name for p in Path(x86_dir).glob("*.png"))
    xb = sorted(p.name for p in Path(arm_dir).glob("*.png"))
    if xa != xb or not xa:
        return [f"{what}: x86 wrote {len(xa)} preprocessed images, aarch64 {len(xb)} (or names differ)"]
    max_diff, n_same = 0, 0
    for name in xa:
        ia = cv2.imread(str(Path(x86_dir) / name), cv2.IMREAD_UNCHANGED).astype(np.int32)
        ib = cv2.imread(str(Path(arm_dir) / name), cv2.IMREAD_UNCHANGED).astype(np.int32)
        d = int(np.abs(ia - ib).max())
        max_diff = max(max_diff, d)
        n_same += d == 0
    # Reported, not gated: OpenCV's NEON and SSE/AVX paths may round differently by one grey level;
    # the labels and outputs above are what must agree.
    print(f"  {'ok' if max_diff == 0 else 'note'} {what}: 28x28 model inputs pixel-identical for "
          f"{n_same}/{len(xa)} images, max difference {max_diff} grey level(s)")
    return []


def main(argv: list[str]) -> int:
    if len(argv) < 4 or (argv[0] == "infer" and len(argv) != 5):
        print(__doc__, file=sys.stderr)
        return 2
    mode, x86, arm, what, *rest = argv
    info = mode.endswith("-info")  # report differences as notes, do not fail
    mode = mode.removesuffix("-info")
    if mode == "infer":
        problems = compare_infer(x86, arm, float(rest[0]), what)
    elif mode == "raw":
        problems = compare_raw(x86, arm, what)
    elif mode == "evaluate":
        problems = compare_evaluate(x86, arm, what)
    elif mode == "pixels":
        problems = compare_pixels(x86, arm, what)
    else:
        print(f"unknown mode {mode!r}\n{__doc__}", file=sys.stderr)
        return 2
    if info:
        for p in problems[:8]:
            print(f"  note {p}")
        if problems:
            print(f"  note {what}: {len(problems)} difference(s), reported only (not a failure)")
        return 0
    for p in problems[:50]:
        print(f"MISMATCH {p}", file=sys.stderr)
    if len(problems) > 50:
        print(f"MISMATCH ... and {len(problems) - 50} more", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
