"""The `aiflow` command: one module per noun in this package, added here."""

from __future__ import annotations

import click

from aiflow_lite import __version__
from aiflow_lite.cli.config import config_group
from aiflow_lite.cli.db import db_group
from aiflow_lite.cli.executions import task_execution, workflow_execution
from aiflow_lite.cli.group import RootGroup, debug_option
from aiflow_lite.cli.namespace import namespace
from aiflow_lite.cli.schedules import workflow_schedule, workflow_trigger
from aiflow_lite.cli.server import server
from aiflow_lite.cli.workflow import workflow


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@debug_option
def cli(debug: bool) -> None:
    """AIFlow: an event-based workflow orchestrator for machine learning, on one machine.

    Everything lives in AIFLOW_HOME (default ~/aiflow): config, one SQLite database with the
    event log and the metadata, blobs and logs.

    Example: aiflow version
    """


@cli.command("version")
def version() -> None:
    """Shows the version.

    Example: aiflow version
    """
    click.echo(__version__)


cli.add_command(config_group("aiflow"))
cli.add_command(db_group("aiflow"))
for noun in (namespace, workflow, workflow_execution, task_execution, workflow_schedule,
             workflow_trigger, server):
    cli.add_command(noun)


def main() -> None:
    cli(prog_name="aiflow")
