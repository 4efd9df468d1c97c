"""The spec's command reference and the implemented commands agree: every command the spec's usage
lines name exists, with every option and argument they show, and says how to use it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

import click
import pytest

from aiflow_lite.cli.aiflow import cli as aiflow_cli
from aiflow_lite.cli.notification import cli as notification_cli

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "docs.txt"
PROGRAMS = {"aiflow": aiflow_cli, "notification": notification_cli}
# The `aiflow` nouns implemented so far; later issues add theirs here.
AIFLOW_GROUPS = {"config", "db", "version", "namespace", "workflow", "workflow-execution",
                 "task-execution", "workflow-schedule", "workflow-trigger", "server"}
_USAGE = re.compile(r"^(aiflow|notification) ((?:[a-z-]+ )*)\[-h\](.*)$")


def _spec_usages() -> List[Tuple[str, List[str], str]]:
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside this checkout ({SPEC})")
    usages = []
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        match = _USAGE.match(line.strip())
        if not match:
            continue
        program, path, rest = match.group(1), match.group(2).split(), match.group(3)
        if "COMMAND" in rest:
            continue  # a group's own usage line
        if program == "aiflow" and path[0] not in AIFLOW_GROUPS:
            continue
        usages.append((program, path, rest))
    return usages


def _resolve(program: str, path: List[str]) -> click.Command:
    command: click.Command = PROGRAMS[program]
    for name in path:
        assert isinstance(command, click.Group), f"{program} {' '.join(path)}: not a group"
        sub = command.get_command(click.Context(command), name)
        assert sub is not None, f"`{program} {' '.join(path)}` is in the spec but not implemented"
        command = sub
    return command


def test_the_spec_lists_the_notification_commands():
    paths = {" ".join(p) for prog, p, _ in _spec_usages() if prog == "notification"}
    assert {"event send", "event list", "event count", "event listen", "db reset",
            "config init", "server start", "version"} <= paths


@pytest.mark.parametrize(("program", "path", "rest"), _spec_usages(),
                         ids=lambda v: v if isinstance(v, str) else "-".join(v))
def test_spec_command_is_implemented_with_its_options(program, path, rest):
    command = _resolve(program, path)
    options = {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}
    for flag in re.findall(r"\[(-{1,2}[a-z-]+)", rest):
        assert flag in options, f"`{program} {' '.join(path)}` lacks {flag}"
    positional = re.sub(r"\[[^\]]*\]", "", rest).split()
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    assert len(arguments) == len(positional), (
        f"`{program} {' '.join(path)}` takes {[a.name for a in arguments]}, spec: {positional}")


def _leaf_commands(group: click.Group, prefix: str):
    for name in group.list_commands(click.Context(group)):
        command = group.get_command(click.Context(group), name)
        if isinstance(command, click.Group):
            assert command.help, f"{prefix} {name} has no help"
            yield from _leaf_commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


@pytest.mark.parametrize(
    ("name", "command"),
    [pair for prog, cli in PROGRAMS.items() for pair in _leaf_commands(cli, prog)],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_command_has_help_with_an_example(name, command):
    assert command.help and "Example:" in command.help, f"`{name}` help needs an example"
    example = command.help.split("Example:", 1)[1].strip().split("\n")[0]
    assert name.split()[0] in example, f"`{name}` example does not show the command: {example}"
