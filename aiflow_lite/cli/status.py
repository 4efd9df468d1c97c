"""`aiflow status`: a live view of a home: scheduler health, running executions and their tasks,
the executions that finished lately (for `RECENT_MINUTES` after they end, the newest
`FINISHED_LIMIT`), the latest events, and the schedules due next; or, with `-o json`, one
snapshot of the same for scripts. It only reads (WAL: nobody is locked out), and a refresh is a
handful of indexed queries, cheap enough to leave on all day."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, List, Optional

import click

from aiflow_lite.cli.output import elapsed_s, format_duration, format_time_ms, rounded

RECENT_MINUTES = 10.0  # a finished execution stays in the view this long after it ends...
FINISHED_LIMIT = 20  # ...and at most this many of them (the latest to end)
RUNNING_LIMIT = 50
MODELS_LIMIT = 20  # the models table: the first this many by namespace and name

#: Each model's latest version (any stage but DELETED) and its DEPLOYED one: one indexed lookup
#: per model (UNIQUE (model_id, version) and the partial index of DEPLOYED versions).
_MODELS = (
    "SELECT m.namespace, m.name, v.version, v.stage, d.version FROM model m "
    "LEFT JOIN model_version v ON v.id = (SELECT x.id FROM model_version x "
    "WHERE x.model_id = m.id AND x.stage != 'DELETED' ORDER BY x.version DESC LIMIT 1) "
    "LEFT JOIN model_version d ON d.model_id = m.id AND d.stage = 'DEPLOYED' "
    "WHERE (? IS NULL OR m.namespace = ?) ORDER BY m.namespace, m.name LIMIT ?")


@dataclass
class StatusSnapshot:
    home: str
    scheduler_pid: Optional[int]
    uptime_s: Optional[float]
    lag: int
    events_per_s: float
    executions: List[Any] = field(default_factory=list)  # running: (meta, [task metas])
    events: List[Any] = field(default_factory=list)
    schedules: List[Any] = field(default_factory=list)  # (workflow name, schedule meta)
    #: Ended in the last `recent_minutes`, latest first: (meta, [task metas]).
    finished: List[Any] = field(default_factory=list)
    recent_minutes: float = RECENT_MINUTES
    taken_at: int = 0  # epoch ms: running durations are "so far" at this time
    #: The meta service's models: (namespace, name, latest version, its stage, DEPLOYED one).
    models: List[Any] = field(default_factory=list)


def collect(settings: Any, namespace: Optional[str] = None,
            workflow: Optional[str] = None, events: int = 10,
            internal: bool = False, recent_minutes: float = RECENT_MINUTES) -> StatusSnapshot:
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
        ended = [store.shown(e) for e in store.finished_executions(
            now - int(recent_minutes * 60_000), FINISHED_LIMIT if recent_minutes > 0 else 0,
            namespace, workflow)]
        snapshot = StatusSnapshot(
            home=settings.home, scheduler_pid=pid, uptime_s=uptime,
            lag=log.latest_offset() - cursor,
            events_per_s=log.count(begin_time=now - 10_000) / 10.0,
            executions=[(e, list(store.latest_task_executions(e.id).values()))
                        for e in running[:RUNNING_LIMIT]],
            finished=[(e, list(store.latest_task_executions(e.id).values()))
                      for e in ended],
            recent_minutes=recent_minutes, taken_at=now,
        )
        snapshot.events = log.latest(events, namespace=namespace, internal=internal)
        snapshot.schedules = db.rows(
            "SELECT w.namespace, w.name, s.id, s.expression, s.next_fire_time, s.is_paused "
            "FROM workflow_schedule s JOIN workflow w ON w.id = s.workflow_id "
            "WHERE (? IS NULL OR w.namespace = ?) AND (? IS NULL OR w.name = ?) "
            "ORDER BY s.is_paused, s.next_fire_time LIMIT 10",
            (namespace, namespace, workflow, workflow))
        snapshot.models = db.rows(_MODELS, (namespace, namespace, MODELS_LIMIT))
    return snapshot


def _row(table: Any, *cells: str) -> None:
    """A table row of plain text: names, keys and values are never read as rich markup."""
    from rich.text import Text

    table.add_row(*(Text(cell) for cell in cells))


def _by_name(tasks: List[Any]) -> List[Any]:
    return sorted(tasks, key=lambda t: t.task_name)


def snapshot_dict(snapshot: StatusSnapshot) -> dict:
    """The snapshot as plain data (`-o json`/`yaml`): times in epoch ms, durations in seconds."""
    now = snapshot.taken_at

    def task(t: Any) -> dict:
        return {"id": t.id, "task_name": t.task_name, "sequence_number": t.sequence_number,
                "status": t.status, "try_number": t.try_number, "begin_time": t.begin_time,
                "end_time": t.end_time, "duration_s": rounded(elapsed_s(t.begin_time,
                                                                         t.end_time, now))}

    def execution(e: Any, tasks: List[Any]) -> dict:
        return {"id": e.id, "namespace": e.namespace, "workflow_name": e.workflow_name,
                "status": e.status, "waiting_for": e.waiting_for, "begin_time": e.begin_time,
                "end_time": e.end_time,
                "duration_s": rounded(elapsed_s(e.begin_time, e.end_time, now)),
                "reason": e.reason, "tasks": [task(t) for t in _by_name(tasks)]}

    return {
        "home": snapshot.home,
        "time": now,
        "scheduler": {
            "alive": snapshot.scheduler_pid is not None, "pid": snapshot.scheduler_pid,
            "uptime_s": rounded(snapshot.uptime_s), "events_behind": snapshot.lag,
            "events_per_s": snapshot.events_per_s},
        "executions": [execution(e, tasks)
                       for e, tasks in [*snapshot.executions, *snapshot.finished]],
        "finished_within_minutes": snapshot.recent_minutes,
        "events": [e.to_dict() for e in snapshot.events],
        "schedules": [{"workflow": f"{namespace}.{name}", "id": sid, "expression": expression,
                       "next_fire_time": next_fire, "is_paused": bool(paused)}
                      for namespace, name, sid, expression, next_fire, paused
                      in snapshot.schedules],
        "models": [{"namespace": namespace, "name": name, "latest_version": latest,
                    "latest_stage": stage, "deployed_version": deployed}
                   for namespace, name, latest, stage, deployed in snapshot.models],
    }


def render(snapshot: StatusSnapshot) -> Any:
    """The view as a rich renderable (tests render it to text)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if snapshot.scheduler_pid:
        up = f", up {format_duration(snapshot.uptime_s)}" if snapshot.uptime_s is not None \
            else ""
        health = Text(f"scheduler pid {snapshot.scheduler_pid}{up}, {snapshot.lag} events "
                      f"behind, {snapshot.events_per_s:.1f} events/s", style="green")
    else:
        health = Text("no scheduler runs for this home (aiflow server start -d)", style="yellow")
    header = Text(f"aiflow status: {snapshot.home}\n", style="bold") + health
    now = snapshot.taken_at or int(time.time() * 1000)
    runs = Table(title="running executions", expand=False)
    for column in ("execution", "workflow", "task", "run", "status", "for"):
        runs.add_column(column)
    for execution, tasks in snapshot.executions:
        for i, task in enumerate(_by_name(tasks)):
            _row(runs, str(execution.id) if i == 0 else "",
                         f"{execution.namespace}.{execution.workflow_name}" if i == 0 else "",
                         task.task_name, str(task.sequence_number), task.status,
                         format_duration(elapsed_s(task.begin_time, task.end_time, now)))
        if execution.waiting_for or not tasks:
            first = not tasks
            _row(runs, str(execution.id) if first else "",
                         f"{execution.namespace}.{execution.workflow_name}" if first else "",
                         "", "", f"RUNNING, idle: {execution.waiting_for}"
                         if execution.waiting_for else "", "")
    parts = [header, runs]
    if snapshot.recent_minutes > 0:
        parts.append(_finished_table(snapshot, now))
    events = Table(title="latest events")
    for column in ("offset", "key", "value", "namespace", "time"):
        events.add_column(column, overflow="fold")
    for e in snapshot.events:
        _row(events, str(e.offset), e.key, (e.value or "")[:40], e.namespace or "",
                       format_time_ms(e.create_time))
    schedules = Table(title="schedules")
    for column in ("workflow", "id", "expression", "next"):
        schedules.add_column(column)
    for namespace, name, sid, expression, next_fire, paused in snapshot.schedules:
        _row(schedules, f"{namespace}.{name}", str(sid), expression,
                          "paused" if paused else format_time_ms(next_fire))
    models = Table(title="models")
    for column in ("model", "latest", "stage", "deployed"):
        models.add_column(column)
    for namespace, name, latest, stage, deployed in snapshot.models:
        _row(models, f"{namespace}.{name}", "" if latest is None else str(latest), stage or "",
             "" if deployed is None else str(deployed))
    return Group(*parts, events, schedules, models)


def _finished_table(snapshot: StatusSnapshot, now: int) -> Any:
    """One row per execution (a wide table of every task would crowd out the running ones and
    costs rich ~1 ms a row): its tasks as a count per status, naming those that did not
    succeed, which is what one looks for in an execution that just ended."""
    from rich.table import Table

    table = Table(title=f"finished in the last {snapshot.recent_minutes:g} min "
                  f"(latest {FINISHED_LIMIT} at most)")
    for column in ("execution", "workflow", "status", "ended", "took", "tasks"):
        table.add_column(column, overflow="fold")
    for execution, tasks in snapshot.finished:
        _row(table, str(execution.id), f"{execution.namespace}.{execution.workflow_name}",
             execution.status, format_time_ms(execution.end_time),
             format_duration(elapsed_s(execution.begin_time, execution.end_time, now)),
             task_summary(tasks))
    return table


def task_summary(tasks: List[Any]) -> str:
    """`3 SUCCESS, 1 FAILED (train)`: how many tasks ended in each status (SUCCESS, FAILED,
    STOPPED, then any other), naming the tasks of every status but SUCCESS."""
    by_status: dict = {}
    for task in _by_name(tasks):
        by_status.setdefault(task.status, []).append(task.task_name)
    parts = []
    rank = {"SUCCESS": 0, "FAILED": 1, "STOPPED": 2}
    for status, names in sorted(by_status.items(), key=lambda item: rank.get(item[0], 3)):
        named = "" if status == "SUCCESS" else f" ({', '.join(names)})"
        parts.append(f"{len(names)} {status}{named}")
    return ", ".join(parts) or "no tasks ran"


@click.command("status")
@click.option("--once", is_flag=True, help="Print one snapshot and exit.")
@click.option("-n", "--namespace", default=None, help="Only this namespace.")
@click.option("--workflow", "workflow_name", default=None, help="Only this workflow.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between refreshes.")
@click.option("--internal", is_flag=True,
              help="Also show aiflow_lite's own events (task statuses, commands, results).")
@click.option("--recent", "recent_minutes", type=click.FloatRange(min=0),
              default=RECENT_MINUTES, show_default=True, metavar="MINUTES",
              help=f"Keep listing an execution this many minutes after it finished (the latest "
                   f"{FINISHED_LIMIT} at most); 0: running ones only.")
@click.option("-o", "--output", type=click.Choice(["table", "json", "yaml"]), default="table",
              show_default=True,
              help="json or yaml: one snapshot for scripts (implies --once).")
def status(once: bool, namespace: Optional[str], workflow_name: Optional[str],
           interval: float, internal: bool, recent_minutes: float, output: str) -> None:
    """Shows a live view of this home: scheduler, executions, events, schedules, models.

    Running executions with their tasks, what an idle one waits for, and the executions that
    finished lately: each stays listed with its final status and end time for 10 minutes after
    it ends (--recent MINUTES), the latest 20 at most. Then the latest events, the schedules
    due next, and the models with their latest and DEPLOYED versions. Piped, or with --once,
    it prints one snapshot and exits; `-o json` prints that snapshot as one JSON object
    (executions with status, waiting_for and tasks with status, try and duration; the latest
    events; whether the scheduler is alive; the models).

    Example: aiflow status --once -o json
    """
    from aiflow_lite.cli.output import make_console
    from aiflow_lite.config import load_aiflow_settings

    settings = load_aiflow_settings()

    def snapshot() -> StatusSnapshot:
        return collect(settings, namespace, workflow_name, internal=internal,
                       recent_minutes=recent_minutes)

    if output != "table":
        from aiflow_lite.cli.output import dump

        dump(snapshot_dict(snapshot()), output)
        return
    console = make_console()
    if once or not sys.stdout.isatty():
        console.print(render(snapshot()))
        return
    from rich.live import Live

    with Live(render(snapshot()), console=console, refresh_per_second=4, screen=False) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(render(snapshot()))
        except KeyboardInterrupt:
            pass
