"""The root group both commands share: one error boundary and the `--debug` switch."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

DEBUG_ENV = "AIFLOW_DEBUG"


class RootGroup(click.Group):
    """Turns an `AiflowError` (the user's mistake or environment) into one line on stderr and exit
    code 1. With `--debug` or AIFLOW_DEBUG=1 the traceback is shown instead."""

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


def _debug(ctx: click.Context) -> bool:
    flag = (ctx.params or {}).get("debug")
    return bool(flag) or os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


debug_option = click.option(
    "--debug", is_flag=True, help="Show tracebacks of errors (or set AIFLOW_DEBUG=1)."
)
