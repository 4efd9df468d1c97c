"""`config init|list|get-value`, shared by `aiflow` and `notification` (each on its own file)."""

from __future__ import annotations

import json
import os
from typing import Any, Callable

import click

from aiflow_lite.cli.output import color_enabled

#: Shown by `config list` only as "set": a listing gets pasted into issues and chats.
SECRET_OPTIONS = ("server_token",)


def settings_loader(which: str) -> Callable[[], Any]:
    """The settings loader of the `aiflow` or the `notification` command (imported lazily)."""

    def load() -> Any:
        from aiflow_lite import config as conf

        if which == "aiflow":
            return conf.load_aiflow_settings()
        return conf.load_notification_settings()

    return load


def config_group(which: str) -> click.Group:
    """Build the `config` group for `which` ('aiflow' or 'notification')."""
    load_settings = settings_loader(which)

    @click.group("config")
    def config() -> None:
        """Manages configuration."""

    @config.command("init")
    def init() -> None:
        """Initializes the default configuration.

        Writes the commented default file into the home; an existing file is left as it is.

        Example: AIFLOW_HOME=~/aiflow {which} config init
        """
        from aiflow_lite import config as conf
        from aiflow_lite.errors import HomeError

        settings = load_settings()
        path = settings.config_file
        if os.path.exists(path):
            click.echo(f"Config file {path} already exists; remove it to write the defaults again.")
            return
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "x", encoding="utf-8") as fh:
                defaults = conf.AIFLOW_DEFAULTS if which == "aiflow" else conf.NOTIFICATION_DEFAULTS
                fh.write(conf.default_config_text(defaults))
        except OSError as exc:
            raise HomeError(f"cannot write {path}: {exc.strerror}") from exc
        click.echo(f"Wrote the default configuration to {path}.")

    @config.command("list")
    @click.option("--color", type=click.Choice(["auto", "off", "on"]), default="auto",
                  show_default=True, help="Do emit colored output.")
    def list_(color: str) -> None:
        """Lists all options of the configuration.

        Example: {which} config list --color off
        """
        settings = load_settings()
        styled = color_enabled(color)
        click.echo(f"# {settings.config_file}"
                   + ("" if os.path.exists(settings.config_file) else " (not written; defaults)"))
        for key, value in settings.values.items():
            name = click.style(key, fg="cyan") if styled else key
            shown = json.dumps(value) if isinstance(value, (dict, list)) else value
            if key in SECRET_OPTIONS and value:
                shown = "(set; `config get-value " + key + "` shows it)"
            click.echo(f"{name}: {'' if shown is None else shown}", color=styled)

    @config.command("get-value")
    @click.argument("option")
    def get_value(option: str) -> None:
        """Gets the option value of the configuration.

        Example: {which} config get-value history_retention
        """
        value = load_settings().get(option)
        click.echo("" if value is None else value)

    for command in config.commands.values():
        command.help = (command.help or "").replace("{which}", which)
    return config
