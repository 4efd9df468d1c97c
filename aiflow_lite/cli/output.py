"""Printing rows as table, json, yaml or plain text: one function every listing command uses."""

from __future__ import annotations

import os
import sys
from typing import Any, Iterable, Mapping, Sequence

import click


def format_time_ms(ms: Any) -> str:
    from datetime import datetime

    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).isoformat(sep=" ", timespec="milliseconds")


def _text(value: Any) -> str:
    import json

    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def color_enabled(choice: str = "auto") -> bool:
    if choice == "on":
        return True
    if choice == "off" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def emit(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str,
    *,
    time_columns: Sequence[str] = (),
    title: str | None = None,
) -> None:
    """Print `rows` (dicts) in `fmt`. json/yaml keep raw values (times in epoch ms); table and
    plain show times as local ISO text."""
    import json

    rows = [dict(r) for r in rows]
    if fmt == "json":
        click.echo(json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=2,
                              default=str))
        return
    if fmt == "yaml":
        import yaml

        click.echo(yaml.safe_dump([{c: r.get(c) for c in columns} for r in rows],
                                  sort_keys=False, allow_unicode=True), nl=False)
        return
    shown = [
        [format_time_ms(r.get(c)) if c in time_columns else _text(r.get(c)) for c in columns]
        for r in rows
    ]
    if fmt == "plain":
        for line in shown:
            click.echo("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in line))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold", no_wrap=c in time_columns)
    for line in shown:
        table.add_row(*line)
    console = Console(no_color=not color_enabled(), highlight=False, soft_wrap=False)
    console.print(table)
