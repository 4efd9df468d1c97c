"""The spec's command reference as the repository keeps it (tests/data/spec_cli.yaml), for the tests
that check the commands against it, the file against the spec, and run every command."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import click
import yaml

from aiflow_lite.cli.aiflow import cli as aiflow_cli
from aiflow_lite.cli.notification import cli as notification_cli

DATA = Path(__file__).parent / "data" / "spec_cli.yaml"
PROGRAMS = {"aiflow": aiflow_cli, "notification": notification_cli}

_data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
#: "aiflow workflow list" → {"arguments": [...], "options": [{"flags": [...], ...}], "needs": [...]}
COMMANDS: Dict[str, dict] = {path: spec or {} for path, spec in _data["commands"].items()}
NOT_IMPLEMENTED_YET: List[str] = list(_data.get("not_implemented_yet") or [])


def arguments(path: str) -> List[str]:
    return list(COMMANDS[path].get("arguments") or [])


def options(path: str) -> List[dict]:
    return list(COMMANDS[path].get("options") or [])


def needs(path: str) -> List[str]:
    return list(COMMANDS[path].get("needs") or [])


def resolve(path: str) -> click.Command | None:
    """The click command `path` names ("aiflow workflow list"), or None when there is none."""
    program, *words = path.split()
    command: click.Command = PROGRAMS[program]
    for word in words:
        if not isinstance(command, click.Group):
            return None
        sub = command.get_command(click.Context(command), word)
        if sub is None:
            return None
        command = sub
    return command
