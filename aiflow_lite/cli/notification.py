"""The `notification` command: events, config, database and the notification server."""

from __future__ import annotations

import click

from aiflow_lite import __version__
from aiflow_lite.cli.config import config_group
from aiflow_lite.cli.db import db_group
from aiflow_lite.cli.event import event
from aiflow_lite.cli.group import RootGroup, debug_option
from aiflow_lite.cli.server import notification_server


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@debug_option
@click.version_option(__version__, "--version", prog_name="notification", message="%(version)s",
                      help="Show the version and exit.")
def cli(debug: bool) -> None:
    """Notification service: send, list, count and listen to the events of an AIFlow home.

    Events go to the AIFlow home's database (AIFLOW_HOME, default ~/aiflow) unless
    notification_server.yaml (in NOTIFICATION_HOME) sets another db_uri.

    Example: notification event send model_validated v1
    """


@cli.command("version")
def version() -> None:
    """Shows the version.

    Example: notification version
    """
    click.echo(__version__)


cli.add_command(event)
cli.add_command(notification_server)
cli.add_command(config_group("notification"))
cli.add_command(db_group("notification"))


def main() -> None:
    cli(prog_name="notification")
