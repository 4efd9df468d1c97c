"""The `aiflow` command: one module per noun in this package, added here."""

from __future__ import annotations

import click

from aiflow_lite import __version__
from aiflow_lite.cli.group import RootGroup, debug_option

NOUNS = {
    "webserver": "aiflow_lite.cli.webserver:webserver",
    "config": "aiflow_lite.cli.config:config_group(aiflow)",
    "db": "aiflow_lite.cli.db:db_group(aiflow)",
    "namespace": "aiflow_lite.cli.namespace:namespace",
    "workflow": "aiflow_lite.cli.workflow:workflow",
    "workflow-execution": "aiflow_lite.cli.executions:workflow_execution",
    "task-execution": "aiflow_lite.cli.executions:task_execution",
    "workflow-schedule": "aiflow_lite.cli.schedules:workflow_schedule",
    "workflow-trigger": "aiflow_lite.cli.schedules:workflow_trigger",
    "server": "aiflow_lite.cli.server:server",
    "run": "aiflow_lite.cli.run:run",
    "status": "aiflow_lite.cli.status:status",
    # The meta service: aiflow_lite's own nouns, not in the spec's command reference.
    "dataset": "aiflow_lite.cli.datasets:dataset",
    "model": "aiflow_lite.cli.models:model",
    "model-version": "aiflow_lite.cli.models:model_version",
    "metric": "aiflow_lite.cli.metrics:metric",
    "artifact": "aiflow_lite.cli.artifacts:artifact",
}


@click.group(cls=RootGroup, lazy=NOUNS,
             context_settings={"help_option_names": ["-h", "--help"]})
@debug_option
@click.version_option(__version__, "--version", prog_name="aiflow", message="%(version)s",
                      help="Show the version and exit.")
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


def main() -> None:
    cli(prog_name="aiflow")
