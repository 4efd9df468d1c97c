"""Run a click command in-process with stdout and stderr kept apart (click 8.1 and 8.2+)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import click
from click.testing import CliRunner


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    exception: Optional[BaseException]


def invoke(cli: click.Group, *args: str, input: Optional[str] = None) -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # click 8.1
    except TypeError:
        runner = CliRunner()  # click 8.2+: stderr is always separate
    result = runner.invoke(cli, list(args), input=input, catch_exceptions=True)
    return Result(result.exit_code, result.stdout, result.stderr, result.exception)
