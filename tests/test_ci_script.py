"""CI runs exactly the test command the README gives a newcomer, and nothing needs it changed."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text.split("Install with the test tools and run the tests:", 1)[1]
    return after.split("```bash\n", 1)[1].split("\n```", 1)[0].strip()


def test_ci_runs_the_readme_test_command_verbatim():
    command = readme_test_command()
    assert command.startswith("python3 -m pip install -e '.[test]' && python3 -m pytest")
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert lines.count(command) == 1
    # `set -e` ignores a failure left of `&&`: a failed install must still fail CI.
    assert lines[lines.index(command) + 1].startswith("[ $? -eq 0 ] || exit 1")


def test_the_test_extras_hold_what_the_command_uses():
    """`-n` needs pytest-xdist: a plain clone's `pip install -e '.[test]'` must bring it."""
    import re

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # tomllib is 3.11+
    extras = re.search(r"^test = \[(.*)\]$", pyproject, re.MULTILINE).group(1)
    if " -n " in readme_test_command():
        assert '"pytest-xdist' in extras


def test_ci_makes_each_optional_engine_run_not_skip():
    """Each kind of test that skips without its engine is required in CI, its engine installed."""
    script = (ROOT / ".ci" / "run").read_text()
    for variable in ("AIFLOW_REQUIRE_ENGINES=1", "AIFLOW_REQUIRE_BROWSER=1",
                     "AIFLOW_REQUIRE_SPEC=1", "AIFLOW_REQUIRE_RAY=1"):
        assert variable in script
    assert "pip install -q -e '.[ray]'" in script
    assert "apt-get install -y -q chromium" in script and "install-engines" in script
