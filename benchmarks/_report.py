"""The figure table every benchmark prints: figure, measured, target, met; then a summary."""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

Row = Tuple[str, str, str, Optional[bool]]


def print_report(title: str, rows: List[Row], width: int = 46) -> int:
    """Print the table; return the exit code (1 when a target was missed)."""
    print(title)
    print(f"{'figure':<{width}} {'measured':>16}  {'target':<16} met")
    for figure, measured, target, met in rows:
        mark = "" if met is None else "yes" if met else "NO"
        print(f"{figure:<{width}} {measured:>16}  {target:<16} {mark}")
    missed = [figure for figure, _, _, met in rows if met is False]
    checked = sum(met is not None for *_, met in rows)
    print(f"summary: {checked - len(missed)}/{checked} targets met"
          + (f"; missed: {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


def sized_arguments(description: str, sizes: dict, options: Optional[dict] = None) -> Any:
    """Parsed `--quick` and one `--<size>` per entry of `sizes` ({name: (default, quick)}),
    each filled with its default, or its quick value under `--quick`; `options` are more
    ({flag: argparse keywords})."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    for flag, keywords in (options or {}).items():
        parser.add_argument(flag, **keywords)
    for name, (default, quick) in sizes.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default),
                            help=f"default {default}, with --quick {quick}")
    args = parser.parse_args()
    for name, values in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, values[args.quick])
    return args


def in_temporary_home(prefix: str, work: Callable[[str], Any]) -> Any:
    """`work(home)` with AIFLOW_HOME set to a new directory (before any settings are loaded;
    children inherit it), which is removed afterwards."""
    import os
    import shutil
    import tempfile

    home = tempfile.mkdtemp(prefix=prefix)
    try:
        os.environ["AIFLOW_HOME"] = home
        os.environ.pop("NOTIFICATION_HOME", None)
        return work(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
