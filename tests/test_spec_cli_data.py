"""tests/data/spec_cli.yaml says what the spec's command reference says: the same commands, each
with the positional arguments of its usage line and the options of its usage line and its named
arguments (their flags, metavars and choices). Needs the spec beside the checkout
(../shared/spec/docs.txt): skipped without it, failed without it under AIFLOW_REQUIRE_SPEC=1."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Dict

import pytest
from spec_commands import COMMANDS, arguments, options

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "docs.txt"
REQUIRED = os.environ.get("AIFLOW_REQUIRE_SPEC") == "1"
if not SPEC.exists() and not REQUIRED:
    pytest.skip(f"the spec is not beside this checkout ({SPEC})", allow_module_level=True)

_USAGE = re.compile(r"^(aiflow|notification) ((?:[a-z-]+ )*)\[-h\](.*)$")
# A named argument ("-n, --namespace", "--sender", "-d"); the docs print "--" as an en dash.
_NAMED = re.compile(r"^(?:(-[a-zA-Z]), )?(?:\u2013|--)([a-z][a-z-]*)$|^(-[a-zA-Z])$")
_CHOICES = "Possible choices:"


@functools.cache
def spec_commands() -> Dict[str, dict]:
    """Every leaf command of the spec's reference: {path: {"usage": rest of its usage line,
    "named": [{"flags": [...], "choices": [...]?}]}} (a section runs to the next usage line)."""
    if not SPEC.exists():
        pytest.fail(f"AIFLOW_REQUIRE_SPEC=1 but the spec is missing ({SPEC})", pytrace=False)
    lines = [line.strip() for line in SPEC.read_text(encoding="utf-8").splitlines()]
    starts = [i for i, line in enumerate(lines) if _USAGE.match(line)]
    found: Dict[str, dict] = {}
    for n, start in enumerate(starts):
        program, path, rest = _USAGE.match(lines[start]).groups()
        if "COMMAND" in rest:
            continue  # a group's own usage line
        named: list = []
        for line in lines[start + 1:starts[n + 1] if n + 1 < len(starts) else len(lines)]:
            match = _NAMED.match(line)
            if match:
                short, long, alone = match.groups()
                named.append({"flags": [f for f in (short or alone, long and f"--{long}") if f]})
            elif line.startswith(_CHOICES) and named:
                named[-1]["choices"] = [c.strip() for c in
                                        line[len(_CHOICES):].strip().rstrip(".").split(",")]
        found[" ".join([program, *path.split()])] = {"usage": rest.strip(), "named": named}
    return found


def test_the_data_holds_every_command_of_the_spec_and_no_other():
    spec = spec_commands()
    assert len(spec) > 50
    assert sorted(COMMANDS) == sorted(spec)


@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda p: p.replace(" ", "-"))
def test_the_data_says_what_the_spec_says(path):
    spec = spec_commands().get(path)
    assert spec is not None, f"`{path}` is not in the spec"
    usage = spec["usage"]
    bracketed = re.findall(r"\[([^\]]*)\]", usage)
    assert arguments(path) == re.sub(r"\[[^\]]*\]", "", usage).split()
    data = {o["flags"][0]: o for o in options(path)}
    # The options: those the usage line shows and those the named arguments list, nothing else.
    assert [o["flags"] for o in options(path)] == [n["flags"] for n in spec["named"]]
    for named in spec["named"]:
        if "choices" in named:
            assert data[named["flags"][0]].get("choices") == named["choices"], path
    for group in bracketed:
        flag, _, taken = group.partition(" ")
        option = next((o for o in options(path) if flag in o["flags"]), None)
        assert option is not None, f"`{path}`: the usage shows {flag}"
        if not taken:
            assert "value" not in option and "choices" not in option, f"`{path} {flag}`: a switch"
        elif "choices" in option:  # `-o table, json, yaml`, `--color {auto,off,on}`
            shown = [c.strip() for c in taken.strip("{}").split(",")]
            assert set(shown) <= set(option["choices"]), f"`{path} {flag}`: {shown}"
        else:
            assert option.get("value") == taken, f"`{path} {flag}` takes {taken}"
