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
    click.echo(render_table(list(columns), shown, title=title), nl=False)


def emit_one(meta: Any, missing: str, columns: Sequence[str], fmt: str,
             time_columns: Sequence[str] = ()) -> None:
    """`show` commands: one record in `fmt`, or `missing` as the one-line error when absent."""
    if meta is None:
        from aiflow_lite.errors import NotFound

        raise NotFound(missing)
    emit([meta.to_dict()], columns, fmt, time_columns=time_columns)


def render_table(columns: list, rows: list, title: str | None = None) -> str:
    """Aligned columns under an upper-case header, like `docker ps`: fast to print (no rich
    import on the hot path of every listing) and easy to grep or cut."""
    cells = [[c.upper() for c in columns], *[[cell.replace("\n", " ") for cell in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [title] if title else []
    for row in cells:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        lines.append("(none)")
    return "\n".join(lines) + "\n"


def make_console():
    """A rich console for tables and trees: on a terminal, its width; piped, as wide as the
    content needs (a pipe has no width, and folding names there would corrupt them)."""
    from rich.console import Console

    width = None if sys.stdout.isatty() else 4096
    return Console(no_color=not color_enabled(), highlight=False, width=width)
