"""`python -m bench` from the repository root: its own imports, never the tests'."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_bench_lists_its_figures_and_synth_is_a_subcommand() -> None:
    listed = _run("-m", "bench", "--list")
    assert listed.returncode == 0, listed.stderr
    assert "ingest_sqlite" in listed.stdout.split()
    synth = _run("-m", "bench", "synth", "--help")
    assert synth.returncode == 0, synth.stderr
    assert "--db" in synth.stdout


def test_bench_does_not_import_the_tests() -> None:
    code = (
        "import sys, bench.__main__;"
        "print(sorted(m for m in sys.modules if m == 'tests' or m.startswith('tests.')))"
    )
    result = _run("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_benchmark_tools_are_not_shipped() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not [p for p in shipped if p.startswith(("bench", "testing", "tests"))]
    assert not (ROOT / "core" / "synthetic.py").exists()
    assert not (ROOT / "bot" / "synth.py").exists()
