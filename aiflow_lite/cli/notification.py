"""The `notification` command: events, config, database and (with the gRPC shim) the server."""

from __future__ import annotations

import click

from aiflow_lite import __version__
from aiflow_lite.cli.config import config_group
from aiflow_lite.cli.db import db_group
from aiflow_lite.cli.event import event
from aiflow_lite.cli.group import RootGroup, debug_option


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@debug_option
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


@cli.group("server")
def server() -> None:
    """Notification server operations."""


_NO_SERVER = (
    "the notification server is not in this version of aiflow_lite; the `notification` command "
    "and the Python client use the local home directly, no server is needed"
)


@server.command("start")
@click.option("-d", "--daemon", is_flag=True,
              help="Daemonizes instead of running in the foreground.")
def server_start(daemon: bool) -> None:
    """Starts the notification server.

    Example: notification server start -d
    """
    from aiflow_lite.errors import Unsupported

    raise Unsupported(_NO_SERVER)


@server.command("stop")
def server_stop() -> None:
    """Stops the notification server.

    Example: notification server stop
    """
    from aiflow_lite.errors import Unsupported

    raise Unsupported(_NO_SERVER)


cli.add_command(event)
cli.add_command(config_group("notification"))
cli.add_command(db_group("notification"))


def main() -> None:
    cli(prog_name="notification")
