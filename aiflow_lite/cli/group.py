"""The root group both commands share: one error boundary and the `--debug` switch."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional

import click

DEBUG_ENV = "AIFLOW_DEBUG"


class RootGroup(click.Group):
    """Turns an `AiflowError` (the user's mistake or environment) into one line on stderr and exit
    code 1. With `--debug` or AIFLOW_DEBUG=1 the traceback is shown instead.

    Nouns named in `lazy` ({name: "module:attribute"}, or "module:factory(argument)" for a
    command a factory builds) are imported only when used, so `aiflow version` does not pay
    for every command's module."""

    def __init__(self, *args: Any, lazy: Optional[Dict[str, str]] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name in self.lazy and name not in self.commands:
            import importlib

            module, _, attribute = self.lazy[name].partition(":")
            attribute, _, argument = attribute.partition("(")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command(argument.rstrip(")")) if argument else command, name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        from aiflow_lite.errors import AiflowError

        try:
            return super().invoke(ctx)
        except AiflowError as exc:
            if _debug(ctx):
                raise
            raise click.ClickException(_one_line(exc)) from None
        except BrokenPipeError:
            # `notification event list ... | head`: the reader left; not an error.
            sys.stderr.close()
            ctx.exit(0)
        except Exception as exc:
            message = _environment_error(exc)
            if message is None or _debug(ctx):
                raise
            raise click.ClickException(message) from None


def _environment_error(exc: Exception) -> str | None:
    """SQLite errors the user's environment causes (locked, read-only, not a database, disk
    full) are one line too; anything else is a bug and keeps its traceback."""
    if type(exc).__module__ != "apsw":
        return None
    from aiflow_lite.sqlite import user_message

    return user_message(exc)


def _debug(ctx: click.Context) -> bool:
    flag = (ctx.params or {}).get("debug")
    return bool(flag) or os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


debug_option = click.option(
    "--debug", is_flag=True, help="Show tracebacks of errors (or set AIFLOW_DEBUG=1)."
)
