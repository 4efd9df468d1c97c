"""Printing records as table, json, yaml or plain text: `emit` for every `list` command (json: an
array, yaml: a sequence), `emit_one` for every `show` command (json: one object, yaml: a mapping).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Iterable, Mapping, Optional, Sequence

import click

from aiflow_lite.records import format_time_ms, pick, pick_one


def format_duration(seconds: Any) -> str:
    """A duration as people read it: `45ms`, `1.2s`, `2m03s`, `1h05m`, `2d03h` ("" for None)."""
    if seconds is None:
        return ""
    seconds = max(0.0, float(seconds))
    if seconds < 0.9995:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 59.95:
        return f"{seconds:.1f}s"
    whole = int(seconds + 0.5)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def elapsed_s(begin: Optional[int], end: Optional[int], now: int) -> Optional[float]:
    """Seconds from `begin` to `end` (epoch ms; `end` None: so far, at `now`); None before it
    began."""
    if begin is None:
        return None
    return max(0, (end if end is not None else now) - begin) / 1000


def rounded(seconds: Any) -> Any:
    """Seconds to the millisecond for json/yaml (None stays None)."""
    return None if seconds is None else round(seconds, 3)


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
    """`list` commands: print `rows` (dicts) in `fmt`; json is an array, yaml a sequence, even of
    one row or none. json/yaml keep raw values (times in epoch ms); table and plain show times
    as local ISO text."""
    rows = pick(rows, columns)
    if fmt in ("json", "yaml"):
        dump(rows, fmt)
        return
    _print_rows(rows, columns, fmt, time_columns, title)


def emit_one(meta: Any, missing: str, columns: Sequence[str], fmt: str,
             time_columns: Sequence[str] = ()) -> None:
    """`show` commands: one record (a meta, or a dict already shaped for output) in `fmt`: json
    is one object, yaml one mapping; table and plain one row. `missing` is the one-line error
    when it is absent."""
    row = pick_one(meta, missing, columns)
    if fmt in ("json", "yaml"):
        dump(row, fmt)
        return
    _print_rows([row], columns, fmt, time_columns, None)


def dump(data: Any, fmt: str) -> None:
    """`data` (an object or an array) as json or yaml, as it is."""
    if fmt == "json":
        import json

        click.echo(json.dumps(data, indent=2, default=str))
        return
    import yaml

    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)


def _print_rows(rows: list, columns: Sequence[str], fmt: str, time_columns: Sequence[str],
                title: str | None) -> None:
    shown = [
        [format_time_ms(r.get(c)) if c in time_columns else _text(r.get(c)) for c in columns]
        for r in rows
    ]
    if fmt == "plain":
        for line in shown:
            click.echo("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in line))
        return
    click.echo(render_table(list(columns), shown, title=title), nl=False)


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
