"""The `notification` command: events, config, database and the notification server."""

from __future__ import annotations

import click

from aiflow_lite import __version__
from aiflow_lite.cli.group import RootGroup, debug_option

NOUNS = {  # imported when used: `notification version` pays for none of them
    "event": "aiflow_lite.cli.event:event",
    "server": "aiflow_lite.cli.server:notification_server",
    "config": "aiflow_lite.cli.config:config_group(notification)",
    "db": "aiflow_lite.cli.db:db_group(notification)",
}


@click.group(cls=RootGroup, lazy=NOUNS,
             context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    cli(prog_name="notification")
