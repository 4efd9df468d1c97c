"""The figure table every benchmark prints: figure, measured, target, met; then a summary."""

from __future__ import annotations

from typing import List, Optional, Tuple

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
