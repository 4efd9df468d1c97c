"""What `aiflow run` shows: progress while it runs (a live table on a terminal, timestamped
lines otherwise), then a summary, the log tail of each failed task, and optional JUnit XML.
Each task execution's elapsed time (so far, while it runs) and the run's are shown as human
durations (`45ms`, `1.2s`, `2m03s`); `-o json` gives them in seconds (`duration_s`)."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from typing import Any, Dict, List, Optional

import click

from aiflow_lite.cli.output import (
    color_enabled,
    elapsed_s,
    format_duration,
    render_table,
    rounded,
)
from aiflow_lite.status import TASK_FINISHED

LOG_TAIL_LINES = 20


def _now_ms() -> int:
    return int(time.time() * 1000)


def task_seconds(task: Any, now_ms: Optional[int] = None) -> Optional[float]:
    """How long a task execution took since it was queued; while it is unfinished, how long
    so far (at `now_ms`, default now), or None when that is not asked for."""
    if task.end_time is None and (now_ms is None or task.status in TASK_FINISHED):
        return None
    return elapsed_s(task.begin_time, task.end_time, now_ms or 0)


class Progress:
    """Task status changes as they happen; on a terminal the table also ticks the elapsed time
    of running tasks and of the run (rich re-renders it several times a second)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.live: Any = None
        self.rows: Dict[int, Any] = {}
        self.started_ms = _now_ms()

    def begin(self, namespace: str, name: str, execution_id: int) -> None:
        self.title = f"{namespace}.{name} execution {execution_id}"
        self.started_ms = _now_ms()
        if self.quiet:
            return
        if sys.stdout.isatty():
            from rich.live import Live

            self.live = Live(get_renderable=self._table, refresh_per_second=8, transient=False)
            self.live.start()
        else:
            self._line(f"running {self.title}")

    def update(self, changed: List[Any]) -> None:
        # A new dict, swapped in whole: the live display's thread renders `self.rows` meanwhile.
        rows = dict(self.rows)
        for task in changed:
            rows[task.id] = task
            if self.live is None and not self.quiet:
                took = task_seconds(task)
                after = f" after {format_duration(took)}" if task.status in TASK_FINISHED and \
                    took is not None else ""
                detail = f" ({task.stop_reason})" if task.status == "FAILED" and \
                    task.stop_reason else ""
                self._line(f"{task.task_name} #{task.sequence_number} {task.status}{after}"
                           f"{detail}")
        self.rows = rows
        if self.live is not None:
            self.live.refresh()

    def end(self) -> None:
        if self.live is not None:
            self.live.stop()

    def _line(self, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
        click.echo(f"{stamp} {text}")

    def _table(self, now_ms: Optional[int] = None) -> Any:
        from rich.table import Table
        from rich.text import Text

        now = _now_ms() if now_ms is None else now_ms
        table = Table(title=self.title,
                      caption=f"{format_duration((now - self.started_ms) / 1000)} elapsed")
        for column in ("task", "run", "status", "elapsed", "started because"):
            table.add_column(column, overflow="fold")
        styles = {"SUCCESS": "green", "FAILED": "red", "RUNNING": "cyan", "STOPPED": "yellow"}
        for task in sorted(self.rows.values(), key=lambda t: (t.task_name, t.sequence_number)):
            style = styles.get(task.status, "") if color_enabled() else ""
            table.add_row(Text(task.task_name), str(task.sequence_number),
                          Text(task.status, style=style),
                          format_duration(task_seconds(task, now)), Text(task.reason or ""))
        return table


def _duration(task: Any) -> str:
    return format_duration(task_seconds(task))


def _summary_rows(result: Any) -> List[Dict[str, Any]]:
    rows = []
    by_task: Dict[str, List[Any]] = {}
    for task in result.tasks:
        by_task.setdefault(result.label(task), []).append(task)
    for name in result.task_names:
        runs = by_task.get(name, [])
        last = runs[-1] if runs else None
        rows.append({
            "task": name, "runs": len(runs),
            "status": last.status if last else "never triggered",
            "duration": _duration(last) if last else "",
            "why": (runs[0].reason or "") if runs else "",
        })
    return rows


def _log_tail(task: Any) -> str:
    if not task.log_path:
        return "(no log)"
    try:
        with open(task.log_path, encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-LOG_TAIL_LINES:])
    except OSError:
        return "(log missing)"


def write_summary(result: Any, output: str) -> None:
    finished = result.execution.status in ("SUCCESS", "FAILED", "STOPPED")
    verdict = {0: "SUCCESS" if finished else "QUIESCENT (no task left to run)", 1: "FAILED",
               2: "TIMED OUT" if result.timed_out else
               "INTERRUPTED (every task it started was stopped)" if result.interrupted else
               "STOPPED"}[result.exit_code]
    if output == "json":
        click.echo(json.dumps({
            "workflow": f"{result.execution.namespace}.{result.execution.workflow_name}",
            "workflow_execution_id": result.execution.id, "status": result.execution.status,
            "result": verdict, "exit_code": result.exit_code, "seconds": round(result.seconds, 3),
            "duration_s": round(result.seconds, 3),
            "timed_out": result.timed_out, "interrupted": result.interrupted,
            "never_triggered": result.never_triggered,
            "listening": result.listening,
            "tasks": [{**t.to_dict(), "duration_s": rounded(task_seconds(t))}
                      for t in result.tasks],
        }, indent=2))
        return
    rows = _summary_rows(result)
    click.echo()
    click.echo(render_table(["task", "runs", "status", "duration", "why"],
                            [[str(r[k]) for k in ("task", "runs", "status", "duration", "why")]
                             for r in rows]), nl=False)
    for task in result.tasks:
        if task.status == "FAILED":
            click.echo(f"\n--- {result.label(task)} #{task.sequence_number} failed: "
                       f"{task.stop_reason or ''}\n{_log_tail(task)}", nl=False)
    if result.never_triggered:
        click.echo(f"\nNever triggered: {', '.join(result.never_triggered)}")
    if result.listening:
        click.echo(f"\nStill listening when the run ended: {'; '.join(result.listening)}")
    click.echo(f"\n{result.execution.namespace}.{result.execution.workflow_name}: {verdict} in "
               f"{format_duration(result.seconds)} (exit {result.exit_code})")


def write_junit(result: Any, path: str) -> None:
    """One test case per task execution; failures carry the reason and the log tail."""
    import xml.etree.ElementTree as ET

    suite_name = f"{result.execution.namespace}.{result.execution.workflow_name}"
    failures = sum(t.status == "FAILED" for t in result.tasks)
    skipped = sum(t.status != "SUCCESS" and t.status != "FAILED" for t in result.tasks)
    suite = ET.Element("testsuite", name=suite_name, tests=str(len(result.tasks)),
                       failures=str(failures), skipped=str(skipped),
                       time=f"{result.seconds:.3f}")
    for task in result.tasks:
        seconds = ((task.end_time or task.begin_time or 0) - (task.begin_time or 0)) / 1000
        case = ET.SubElement(suite, "testcase", classname=suite_name,
                             name=f"{result.label(task)}#{task.sequence_number}",
                             time=f"{seconds:.3f}")
        if task.status == "FAILED":
            failure = ET.SubElement(case, "failure", message=task.stop_reason or "failed")
            failure.text = _log_tail(task)
        elif task.status != "SUCCESS":
            ET.SubElement(case, "skipped", message=f"{task.status}: {task.stop_reason or ''}")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
