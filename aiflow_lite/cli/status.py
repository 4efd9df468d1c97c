"""`aiflow status`: a live view of a home: scheduler health, running executions and their tasks,
the latest events, and the schedules due next. It only reads (WAL: nobody is locked out), and a
refresh is a handful of indexed queries, cheap enough to leave on all day."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, List, Optional

import click

from aiflow_lite.cli.output import format_time_ms


@dataclass
class StatusSnapshot:
    home: str
    scheduler_pid: Optional[int]
    uptime_s: Optional[float]
    lag: int
    events_per_s: float
    executions: List[Any] = field(default_factory=list)  # (meta, [task metas])
    events: List[Any] = field(default_factory=list)
    schedules: List[Any] = field(default_factory=list)  # (workflow name, schedule meta)


def collect(settings: Any, namespace: Optional[str] = None,
            workflow: Optional[str] = None, events: int = 10,
            internal: bool = False) -> StatusSnapshot:
    from aiflow_lite.engine.executions import ExecutionStore
    from aiflow_lite.engine.lock import lock_path, running_scheduler_pid
    from aiflow_lite.events import now_ms
    from aiflow_lite.home import open_database
    from aiflow_lite.ns.event_log import EventLog

    pid = running_scheduler_pid(settings)
    uptime = None
    if pid:
        try:
            uptime = time.time() - os.stat(lock_path(settings)).st_mtime
        except OSError:
            uptime = None
    with open_database(settings) as db:
        log = EventLog(db, wake=False)
        store = ExecutionStore(db)
        now = now_ms()
        cursor = log.cursor("scheduler") or 0
        running = [store.shown(e) for e in store.running_executions(namespace)
                   if workflow is None or e.workflow_name == workflow]
        snapshot = StatusSnapshot(
            home=settings.home, scheduler_pid=pid, uptime_s=uptime,
            lag=log.latest_offset() - cursor,
            events_per_s=log.count(begin_time=now - 10_000) / 10.0,
            executions=[(e, list(store.latest_task_executions(e.id).values()))
                        for e in running[:50]],
        )
        snapshot.events = log.latest(events, namespace=namespace, internal=internal)
        snapshot.schedules = db.rows(
            "SELECT w.namespace, w.name, s.id, s.expression, s.next_fire_time, s.is_paused "
            "FROM workflow_schedule s JOIN workflow w ON w.id = s.workflow_id "
            "WHERE (? IS NULL OR w.namespace = ?) AND (? IS NULL OR w.name = ?) "
            "ORDER BY s.is_paused, s.next_fire_time LIMIT 10",
            (namespace, namespace, workflow, workflow))
    return snapshot


def render(snapshot: StatusSnapshot) -> Any:
    """The view as a rich renderable (tests render it to text)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if snapshot.scheduler_pid:
        up = f", up {snapshot.uptime_s:.0f}s" if snapshot.uptime_s is not None else ""
        health = Text(f"scheduler pid {snapshot.scheduler_pid}{up}, {snapshot.lag} events "
                      f"behind, {snapshot.events_per_s:.1f} events/s", style="green")
    else:
        health = Text("no scheduler runs for this home (aiflow server start -d)", style="yellow")
    header = Text(f"aiflow status: {snapshot.home}\n", style="bold") + health
    runs = Table(title="running executions", expand=False)
    for column in ("execution", "workflow", "task", "run", "status", "for"):
        runs.add_column(column)
    now = time.time() * 1000
    for execution, tasks in snapshot.executions:
        for i, task in enumerate(sorted(tasks, key=lambda t: t.task_name)):
            since = task.begin_time or now
            end = task.end_time or now
            runs.add_row(str(execution.id) if i == 0 else "",
                         f"{execution.namespace}.{execution.workflow_name}" if i == 0 else "",
                         task.task_name, str(task.sequence_number), task.status,
                         f"{(end - since) / 1000:.1f}s")
        if execution.waiting_for or not tasks:
            first = not tasks
            runs.add_row(str(execution.id) if first else "",
                         f"{execution.namespace}.{execution.workflow_name}" if first else "",
                         "", "", f"RUNNING, idle: {execution.waiting_for}"
                         if execution.waiting_for else "", "")
    events = Table(title="latest events")
    for column in ("offset", "key", "value", "namespace", "time"):
        events.add_column(column, overflow="fold")
    for e in snapshot.events:
        events.add_row(str(e.offset), e.key, (e.value or "")[:40], e.namespace or "",
                       format_time_ms(e.create_time))
    schedules = Table(title="schedules")
    for column in ("workflow", "id", "expression", "next"):
        schedules.add_column(column)
    for namespace, name, sid, expression, next_fire, paused in snapshot.schedules:
        schedules.add_row(f"{namespace}.{name}", str(sid), expression,
                          "paused" if paused else format_time_ms(next_fire))
    return Group(header, runs, events, schedules)


@click.command("status")
@click.option("--once", is_flag=True, help="Print one snapshot and exit.")
@click.option("-n", "--namespace", default=None, help="Only this namespace.")
@click.option("--workflow", "workflow_name", default=None, help="Only this workflow.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between refreshes.")
@click.option("--internal", is_flag=True,
              help="Also show aiflow_lite's own events (task statuses, commands, results).")
def status(once: bool, namespace: Optional[str], workflow_name: Optional[str],
           interval: float, internal: bool) -> None:
    """Shows a live view of this home: scheduler, running executions, events, schedules.

    Example: aiflow status --once
    """
    from aiflow_lite.cli.output import make_console
    from aiflow_lite.config import load_aiflow_settings

    settings = load_aiflow_settings()
    console = make_console()

    def view() -> Any:
        return render(collect(settings, namespace, workflow_name, internal=internal))

    if once or not sys.stdout.isatty():
        console.print(view())
        return
    from rich.live import Live

    with Live(view(), console=console, refresh_per_second=4, screen=False) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(view())
        except KeyboardInterrupt:
            pass
