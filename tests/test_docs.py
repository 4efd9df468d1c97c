"""The README is the newcomer's contract: its commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_readme_has_the_two_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    install_and_run, install_and_test = commands
    assert "pip install" in install_and_run and "aiflow run examples/" in install_and_run
    example = install_and_run.split("aiflow run ", 1)[1].split()[0]
    assert (ROOT / example).is_file()
    assert "pip install" in install_and_test and "pytest" in install_and_test


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _readme_commands()[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_benchmark_script_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for script in (ROOT / "benchmarks").glob("[!_]*.py"):
        assert f"benchmarks/{script.name}" in readme


def test_the_repository_holds_no_copy_of_the_spec_samples():
    """DESIGN.md §8: examples are ours; the samples are read from the spec at test time."""
    import spec_docs

    if not spec_docs.SPEC.is_file():
        pytest.skip("the spec is not beside this checkout: nothing to compare with")
    samples = spec_docs.code_blocks(spec_docs.SPEC.read_text(encoding="utf-8"))
    long_lines = {line.strip() for s in samples for line in s.source.splitlines()
                  if len(line.strip()) > 40  # signatures and imports are facts, not copies
                  and not line.lstrip().startswith(("from ", "import ", "def ", "class "))}
    for path in sorted(ROOT.rglob("*.py")):
        if ".git" in path.parts or "build" in path.parts:
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        copied = sorted({line for line in lines if line in long_lines})
        assert len(copied) < 5, f"{path.relative_to(ROOT)} copies the spec: {copied[:5]}"
