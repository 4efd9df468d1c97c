"""The spec's command reference (tests/data/spec_cli.yaml) and the implemented commands agree: every
command it names exists, with every argument and option it shows (a switch as a switch, a value as
a value, every documented choice accepted), and every command says how to use it.
tests/test_spec_cli_data.py checks the data file against the spec itself."""

from __future__ import annotations

import click
import pytest
from spec_commands import (
    COMMANDS,
    NOT_IMPLEMENTED_YET,
    PROGRAMS,
    arguments,
    options,
    resolve,
)


def test_the_data_lists_the_notification_commands():
    paths = {p.split(" ", 1)[1] for p in COMMANDS if p.startswith("notification ")}
    assert {"event send", "event list", "event count", "event listen", "db reset",
            "config init", "server start", "version"} <= paths


@pytest.mark.parametrize("path", [p for p in COMMANDS if p not in NOT_IMPLEMENTED_YET],
                         ids=lambda p: p.replace(" ", "-"))
def test_spec_command_is_implemented_with_its_options(path):
    command = resolve(path)
    assert command is not None and not isinstance(command, click.Group), (
        f"`{path}` is in the spec but not implemented")
    params = [p for p in command.params if isinstance(p, click.Argument)]
    taken = [(p.metavar or p.name).lower() for p in params]
    assert taken == arguments(path), f"`{path}` takes {taken}, spec: {arguments(path)}"
    for option in options(path):
        flags = option["flags"]
        found = [p for p in command.params if isinstance(p, click.Option) and flags[0] in p.opts]
        assert found, f"`{path}` lacks {flags[0]}"
        param = found[0]
        assert set(flags) <= {*param.opts, *param.secondary_opts}, (
            f"`{path}`: {flags} are one option in the spec, here {param.opts}")
        switch = "value" not in option and "choices" not in option
        assert param.is_flag == switch, (
            f"`{path} {flags[0]}` is {'a switch' if switch else 'given a value'} in the spec")
        if "choices" in option:
            accepted = getattr(param.type, "choices", None)
            assert accepted is not None and set(option["choices"]) <= set(accepted), (
                f"`{path} {flags[0]}` accepts {accepted}, spec: {option['choices']}")


def test_the_commands_not_implemented_yet_are_spec_commands_that_do_not_exist():
    """Once one is implemented, take it off `not_implemented_yet` so the tests above and
    tests/test_cli_contract.py cover it."""
    assert set(NOT_IMPLEMENTED_YET) <= set(COMMANDS)
    implemented = [path for path in NOT_IMPLEMENTED_YET if resolve(path) is not None]
    assert implemented == [], f"{implemented} exist now: remove them from not_implemented_yet"


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


#: aiflow_lite's own nouns (the meta service): not in the spec's command reference, so the data
#: file must not grow them, and the tests above hold only for the spec's commands.
OWN_NOUNS = ("dataset", "model", "model-version", "metric", "artifact")


@pytest.mark.parametrize("noun", OWN_NOUNS)
def test_our_own_nouns_are_not_the_spec_s_and_follow_its_conventions(noun):
    assert not [p for p in COMMANDS if p.split()[:2] == ["aiflow", noun]], (
        f"`aiflow {noun}` is ours, not the spec's: keep it out of tests/data/spec_cli.yaml")
    group = resolve(f"aiflow {noun}")
    assert isinstance(group, click.Group) and group.help
    for name, command in _leaf_commands(group, f"aiflow {noun}"):
        flags = {flag for p in command.params for flag in p.opts}
        assert {"-n", "--namespace"} <= flags, f"`{name}` lacks -n/--namespace"
        destructive = name.endswith(" delete")
        assert ({"-y", "--yes"} <= flags) == destructive, f"`{name}`: -y/--yes iff it deletes"
