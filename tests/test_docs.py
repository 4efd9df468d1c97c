"""The README is the newcomer's contract: its commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_examples_copied_from_the_spec_stay_unmodified():
    samples = ROOT / "tests" / "spec_samples"
    for example, sample in (("quickstart/quickstart.py", "quickstart.py"),
                            ("tutorial/tutorial.py", "tutorial.py")):
        body = (ROOT / "examples" / example).read_text().splitlines()[1:]
        assert body == (samples / sample).read_text().splitlines()[1:], example
