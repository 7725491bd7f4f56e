"""The tree tells the truth: every package says what it holds, and the layering holds.

import-linter and ruff also run in `scripts/test.sh` before the suite; here they guard a plain
`pytest` run too (both take about a second).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p.parent for p in (REPO / "cnn_edge").rglob("__init__.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_package_says_what_it_holds(package: Path) -> None:
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
    assert doc and len(doc.split()) >= 8, f"{package}/__init__.py needs a docstring saying what it holds"


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
        return found
    return str(path)


def test_import_contracts_are_kept() -> None:
    proc = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_ruff_is_clean() -> None:
    proc = subprocess.run([_tool("ruff"), "check", "-q", "."], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_shipped_module_imports_the_photo_renderer_or_opencv_at_load() -> None:
    """Importing every shipped module loads neither the test renderer nor OpenCV nor TensorFlow."""
    # Walked by hand: pkgutil.walk_packages imports every package it descends into, the test
    # helpers' own packages included, which would load the very modules this test looks for.
    code = (
        "import importlib, pkgutil, sys, cnn_edge\n"
        "def walk(package):\n"
        "    for m in pkgutil.iter_modules(package.__path__, package.__name__ + '.'):\n"
        "        if m.name.startswith('cnn_edge.testing') or m.name == 'cnn_edge.__main__':\n"
        "            continue\n"
        "        module = importlib.import_module(m.name)\n"
        "        if m.ispkg:\n"
        "            walk(module)\n"
        "walk(cnn_edge)\n"
        "heavy = ('cv2', 'tensorflow', 'keras', 'cnn_edge.testing.synthetic_photos')\n"
        "bad = [n for n in heavy if n in sys.modules]\n"
        "print(bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
