"""`db init|reset|upgrade|downgrade`, shared by `aiflow` and `notification`."""

from __future__ import annotations

from typing import Optional

import click

from aiflow_lite.cli.config import settings_loader
from aiflow_lite.cli.options import yes_option


def _version_option(help_text: str):
    return click.option("-v", "--version", "version", default=None, metavar="VERSION",
                        help=help_text)


def _parse_version(text: Optional[str], default: int) -> int:
    from aiflow_lite.errors import InvalidInput

    if text is None or text == "heads":
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"invalid schema version {text!r}: use a number or 'heads'") from None


def _refuse_while_served(settings) -> None:
    """A server of the home writes this database: resetting or downgrading under it would mix
    its writes with the new one's (a running task's event in a fresh log, ids reused)."""
    from aiflow_lite.engine.lock import running_notification_server_pid, running_scheduler_pid
    from aiflow_lite.errors import AiflowError

    for title, pid, stop in (("an AIFlow server", running_scheduler_pid(settings),
                              "aiflow server stop"),
                             ("a notification server", running_notification_server_pid(settings),
                              "notification server stop")):
        if pid is not None:
            raise AiflowError(f"{title} (pid {pid}) uses {settings.db_path}; stop it first with "
                       f"`{stop}`")


def _holdings(database) -> str:
    """What the database holds, for a confirmation: '12 events, 2 workflows'."""
    parts = []
    for table, noun in (("event", "events"), ("workflow", "workflows"),
                        ("workflow_execution", "workflow executions")):
        if database.scalar("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?",
                           (table,)):
            parts.append(f"{database.scalar(f'SELECT count(*) FROM {table}')} {noun}")
    return ", ".join(parts) or "nothing"


def db_group(which: str) -> click.Group:
    """Build the `db` group for `which` ('aiflow' or 'notification')."""
    load_settings = settings_loader(which)

    def _open():
        from aiflow_lite.home import open_database

        return open_database(load_settings(), check_schema=False)

    @click.group("db")
    def db() -> None:
        """Database operations."""

    @db.command("init")
    def init() -> None:
        """Initializes the database (first use does this too).

        Example: {which} db init
        """
        from aiflow_lite.schema import MIGRATIONS
        from aiflow_lite.sqlite import ensure_schema, head_version

        with _open() as database:
            ensure_schema(database, MIGRATIONS)  # creates a fresh one; explains any other
            click.echo(f"Database {database.path} is ready "
                       f"(schema version {head_version(MIGRATIONS)}).")

    @db.command("upgrade")
    @_version_option("The schema version to reach. Default: heads (the newest).")
    def upgrade(version: Optional[str]) -> None:
        """Upgrades the database to the version.

        Example: {which} db upgrade
        """
        from aiflow_lite.errors import InvalidInput
        from aiflow_lite.schema import MIGRATIONS
        from aiflow_lite.sqlite import head_version, migrate

        with _open() as database:
            current = database.user_version
            target = _parse_version(version, head_version(MIGRATIONS))
            if target < current:
                raise InvalidInput(f"version {target} is below the current {current}; "
                                   f"use `{which} db downgrade -v {target}`")
            migrate(database, MIGRATIONS, target)
            click.echo(f"Database {database.path}: schema version {current} -> {target}.")

    @db.command("downgrade")
    @_version_option("The schema version to go back to. Default: one below the current.")
    @yes_option
    def downgrade(version: Optional[str], yes: bool) -> None:
        """Downgrades the database to the version, dropping what newer versions store (it asks
        first unless -y).

        Example: {which} db downgrade -v 0 -y
        """
        from aiflow_lite.errors import InvalidInput
        from aiflow_lite.schema import MIGRATIONS
        from aiflow_lite.sqlite import migrate

        settings = load_settings()
        _refuse_while_served(settings)
        with _open() as database:
            current = database.user_version
            target = _parse_version(version, max(current - 1, 0))
            if target > current:
                raise InvalidInput(f"version {target} is above the current {current}; "
                                   f"use `{which} db upgrade -v {target}`")
            if target < current and not yes:
                click.confirm(f"Downgrading {database.path} from schema version {current} to "
                              f"{target} drops what the newer versions store (it holds "
                              f"{_holdings(database)}). Proceed?", abort=True)
            migrate(database, MIGRATIONS, target)
            click.echo(f"Database {database.path}: schema version {current} -> {target}.")

    @db.command("reset")
    @yes_option
    def reset(yes: bool) -> None:
        """Burns down and rebuilds the database: every event and all metadata are deleted.

        Example: {which} db reset -y
        """
        from aiflow_lite.schema import MIGRATIONS
        from aiflow_lite.sqlite import drop_everything, migrate

        settings = load_settings()
        _refuse_while_served(settings)
        if not yes:
            click.confirm(f"This deletes every event and all metadata in {settings.db_path}. "
                          "Proceed?", abort=True)
        with _open() as database:
            drop_everything(database)
            version = migrate(database, MIGRATIONS)
            click.echo(f"Database {database.path} was reset (schema version {version}).")

    for command in db.commands.values():
        command.help = (command.help or "").replace("{which}", which)
    return db
