"""Execution state: workflow executions, task executions, periodic-task timers and rule state.
All of its SQL lives here. The scheduler is its one writer, except for two narrow doors kept
safe by conditional updates: a worker's claim and heartbeats, and creating an INIT execution."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Dict, List, Optional, Tuple

from aiflow_lite.errors import NotFound
from aiflow_lite.meta import TaskExecutionMeta, WorkflowExecutionMeta
from aiflow_lite.schema import next_id
from aiflow_lite.sqlite import Database
from aiflow_lite.status import TASK_ACTIVE, WORKFLOW_FINISHED, TaskStatus, WorkflowStatus

_EXECUTION = (
    "SELECT e.id, e.workflow_id, w.namespace, w.name, e.snapshot_id, e.execution_type, e.status, "
    "e.begin_time, e.end_time, e.reason, e.waiting_for FROM workflow_execution e "
    "JOIN workflow w ON w.id = e.workflow_id"
)
_TASK = (
    "SELECT id, workflow_execution_id, task_name, sequence_number, execution_type, status, "
    "try_number, begin_time, end_time, pid, heartbeat_time, reason, stop_reason, log_path "
    "FROM task_execution"
)
_ACTIVE = tuple(s.value for s in TASK_ACTIVE)


class ExecutionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- workflow executions ------------------------------------------------------------------

    def create_execution(self, workflow_id: int, snapshot_id: int, execution_type: str,
                         reason: str) -> int:
        self.db.execute(
            "INSERT INTO workflow_execution (id, workflow_id, snapshot_id, execution_type, "
            f"status, reason) VALUES ({next_id('workflow_execution')}, ?, ?, ?, ?, ?)",
            (workflow_id, snapshot_id, execution_type, WorkflowStatus.INIT.value, reason),
        )
        return self.db.last_insert_rowid()

    def get_execution(self, execution_id: int) -> Optional[WorkflowExecutionMeta]:
        row = self.db.one(f"{_EXECUTION} WHERE e.id = ?", (execution_id,))
        return None if row is None else WorkflowExecutionMeta(*row)

    def require_execution(self, execution_id: int) -> WorkflowExecutionMeta:
        meta = self.get_execution(execution_id)
        if meta is None:
            raise NotFound(f"no workflow execution with id {execution_id}")
        return meta

    def list_executions(self, workflow_id: int, limit: Optional[int] = None,
                        offset: Optional[int] = None) -> List[WorkflowExecutionMeta]:
        page = "" if limit is None else f" LIMIT {int(limit)} OFFSET {int(offset or 0)}"
        rows = self.db.rows(f"{_EXECUTION} WHERE e.workflow_id = ? ORDER BY e.id" + page,
                            (workflow_id,))
        return [WorkflowExecutionMeta(*r) for r in rows]

    def executions_after(self, execution_id: int) -> List[WorkflowExecutionMeta]:
        """Executions created after `execution_id` (by triggers or schedules, say)."""
        return [WorkflowExecutionMeta(*r) for r in self.db.rows(
            f"{_EXECUTION} WHERE e.id > ? ORDER BY e.id", (execution_id,))]

    def newest_execution(self, workflow_id: int) -> Optional[int]:
        """The id of the workflow's newest execution, whatever its status."""
        return self.db.scalar("SELECT max(id) FROM workflow_execution WHERE workflow_id = ?",
                              (workflow_id,))

    def running_executions(self, namespace: Optional[str] = None) -> List[WorkflowExecutionMeta]:
        sql, params = f"{_EXECUTION} WHERE e.status = ?", [WorkflowStatus.RUNNING.value]
        if namespace is not None:
            sql += " AND w.namespace = ?"
            params.append(namespace)
        return [WorkflowExecutionMeta(*r) for r in self.db.rows(sql + " ORDER BY e.id", params)]

    def finished_executions(self, since_ms: int, limit: int, namespace: Optional[str] = None,
                            workflow: Optional[str] = None) -> List[WorkflowExecutionMeta]:
        """Executions that ended at or after `since_ms`, the latest to end first."""
        ended = [s.value for s in WORKFLOW_FINISHED]
        sql = (f"{_EXECUTION} WHERE e.status IN (?, ?, ?) AND e.end_time >= ? "
               "AND (? IS NULL OR w.namespace = ?) AND (? IS NULL OR w.name = ?) "
               "ORDER BY e.end_time DESC, e.id DESC LIMIT ?")
        return [WorkflowExecutionMeta(*r) for r in self.db.rows(
            sql, (*ended, since_ms, namespace, namespace, workflow, workflow, limit))]

    def set_execution_status(self, execution_id: int, status: WorkflowStatus,
                             now: int, note: Optional[str] = None) -> None:
        """`note`: why it ended so, added to its reason ("...; stopped: ...")."""
        if status == WorkflowStatus.RUNNING:
            self.db.execute("UPDATE workflow_execution SET status = ?, begin_time = ? "
                            "WHERE id = ?", (status.value, now, execution_id))
        else:
            self.db.execute("UPDATE workflow_execution SET status = ?, end_time = ?, "
                            "reason = CASE WHEN ?3 IS NULL THEN reason "
                            "WHEN reason IS NULL THEN ?3 ELSE reason || '; ' || ?3 END "
                            "WHERE id = ?4", (status.value, now, note, execution_id))

    def idle_running_executions(self) -> List[int]:
        """Ids of the RUNNING executions none of whose tasks is active."""
        marks = ", ".join("?" * len(_ACTIVE))
        return [r[0] for r in self.db.rows(
            "SELECT id FROM workflow_execution e WHERE status = ? AND NOT EXISTS (SELECT 1 "
            f"FROM task_execution t WHERE t.workflow_execution_id = e.id AND t.status IN "
            f"({marks})) ORDER BY id", (WorkflowStatus.RUNNING.value, *_ACTIVE))]

    def set_waiting_for(self, execution_id: int, text: Optional[str]) -> None:
        self.db.execute("UPDATE workflow_execution SET waiting_for = ? WHERE id = ? "
                        "AND waiting_for IS NOT ?", (text, execution_id, text))

    def shown(self, meta: Optional[WorkflowExecutionMeta]) -> Optional[WorkflowExecutionMeta]:
        """`meta` as users see it: what it waits for only while it is RUNNING and idle (the
        column keeps the text of its last idle moment)."""
        if meta is None or meta.waiting_for is None:
            return meta
        if meta.status != WorkflowStatus.RUNNING.value or self.has_active_tasks(meta.id):
            return replace(meta, waiting_for=None)
        return meta

    def delete_execution(self, execution_id: int) -> None:
        self.db.execute("DELETE FROM workflow_execution WHERE id = ?", (execution_id,))
        if not self.db.changes:
            raise NotFound(f"no workflow execution with id {execution_id}")

    def snapshot_object(self, snapshot_id: int) -> bytes:
        return self.db.scalar("SELECT workflow FROM workflow_snapshot WHERE id = ?",
                              (snapshot_id,))

    def workflow_enabled(self, workflow_id: int) -> bool:
        return bool(self.db.scalar("SELECT is_enabled FROM workflow WHERE id = ?",
                                   (workflow_id,)))

    # -- task executions ----------------------------------------------------------------------

    def create_task_execution(self, execution_id: int, task_name: str, execution_type: str,
                              reason: str, now: int,
                              trigger_offset: Optional[int] = None) -> TaskExecutionMeta:
        """`trigger_offset`: the event whose rule started it, if one did."""
        seq = 1 + int(self.db.scalar(
            "SELECT coalesce(max(sequence_number), 0) FROM task_execution "
            "WHERE workflow_execution_id = ? AND task_name = ?", (execution_id, task_name)))
        self.db.execute(
            "INSERT INTO task_execution (id, workflow_execution_id, task_name, sequence_number, "
            "execution_type, status, begin_time, reason, trigger_offset) "
            f"VALUES ({next_id('task_execution')}, ?, ?, ?, ?, ?, ?, ?, ?)",
            (execution_id, task_name, seq, execution_type, TaskStatus.QUEUED.value, now, reason,
             trigger_offset),
        )
        return self.get_task_execution(self.db.last_insert_rowid())

    def trigger_of(self, task_execution_id: int) -> Tuple[Optional[int], Optional[tuple]]:
        """(the offset of the event that started it, that event's row (key, value, namespace,
        sender, context, offset, create_time), None once retention removed it); (None, None)
        when no event did."""
        row = self.db.one(
            "SELECT t.trigger_offset, e.key, e.value, e.namespace, e.sender, e.context, "
            "e.\"offset\", e.create_time FROM task_execution t LEFT JOIN event e "
            "ON e.\"offset\" = t.trigger_offset WHERE t.id = ?", (task_execution_id,))
        if row is None or row[0] is None:
            return None, None
        return row[0], (None if row[1] is None else tuple(row[1:]))

    def get_task_execution(self, task_execution_id: int) -> Optional[TaskExecutionMeta]:
        row = self.db.one(f"{_TASK} WHERE id = ?", (task_execution_id,))
        return None if row is None else TaskExecutionMeta(*row)

    def list_task_executions(self, execution_id: int) -> List[TaskExecutionMeta]:
        rows = self.db.rows(f"{_TASK} WHERE workflow_execution_id = ? "
                            "ORDER BY task_name, sequence_number", (execution_id,))
        return [TaskExecutionMeta(*r) for r in rows]

    def latest_task_executions(self, execution_id: int) -> Dict[str, TaskExecutionMeta]:
        """Each task's newest execution (highest sequence number) in the workflow execution:
        one row a task, found through the (execution, task, sequence) unique index."""
        rows = self.db.rows(
            f"{_TASK} t WHERE workflow_execution_id = ? AND sequence_number = ("
            "SELECT max(sequence_number) FROM task_execution u "
            "WHERE u.workflow_execution_id = t.workflow_execution_id "
            "AND u.task_name = t.task_name)", (execution_id,))
        return {r[2]: TaskExecutionMeta(*r) for r in rows}

    def latest_task_execution(self, execution_id: int,
                              task_name: str) -> Optional[TaskExecutionMeta]:
        row = self.db.one(f"{_TASK} WHERE workflow_execution_id = ? AND task_name = ? "
                          "ORDER BY sequence_number DESC LIMIT 1", (execution_id, task_name))
        return None if row is None else TaskExecutionMeta(*row)

    def task_executions_in(self, statuses: Tuple[str, ...],
                           limit: Optional[int] = None) -> List[TaskExecutionMeta]:
        marks = ", ".join("?" * len(statuses))
        page = "" if limit is None else f" LIMIT {int(limit)}"
        return [TaskExecutionMeta(*r) for r in self.db.rows(
            f"{_TASK} WHERE status IN ({marks}) ORDER BY id" + page, statuses)]

    def has_active_tasks(self, execution_id: int) -> bool:
        marks = ", ".join("?" * len(_ACTIVE))
        return self.db.one(f"SELECT 1 FROM task_execution WHERE workflow_execution_id = ? "
                           f"AND status IN ({marks}) LIMIT 1", (execution_id, *_ACTIVE)) is not None

    def active_count(self) -> int:
        marks = ", ".join("?" * len(_ACTIVE))
        return int(self.db.scalar(
            f"SELECT count(*) FROM task_execution WHERE status IN ({marks})", _ACTIVE))

    def set_task_status(self, task_execution_id: int, status: TaskStatus, now: int,
                        stop_reason: Optional[str] = None) -> None:
        finished = status in (TaskStatus.SUCCESS, TaskStatus.FAILED, TaskStatus.STOPPED)
        self.db.execute(
            "UPDATE task_execution SET status = ?, end_time = CASE WHEN ? THEN ? ELSE end_time "
            "END, stop_reason = coalesce(?, stop_reason) WHERE id = ?",
            (status.value, finished, now, stop_reason, task_execution_id),
        )

    def hold(self, task_execution_id: int) -> None:
        """Mark a task execution as stopped by a user: it keeps its execution open."""
        self.db.execute("UPDATE task_execution SET held = 1 WHERE id = ?", (task_execution_id,))

    def held_tasks(self, execution_id: int) -> List[str]:
        """The tasks whose latest execution a user stopped (they may be started again)."""
        return [r[0] for r in self.db.rows(
            "SELECT task_name FROM task_execution t WHERE workflow_execution_id = ? AND held = 1 "
            "AND sequence_number = (SELECT max(sequence_number) FROM task_execution u "
            "WHERE u.workflow_execution_id = t.workflow_execution_id "
            "AND u.task_name = t.task_name) ORDER BY task_name", (execution_id,))]

    def set_retrying(self, task_execution_id: int, retry_time: int) -> None:
        self.db.execute(
            "UPDATE task_execution SET status = ?, retry_time = ?, pid = NULL, pid_start = NULL "
            "WHERE id = ?", (TaskStatus.RETRYING.value, retry_time, task_execution_id))

    def due_retries(self, now: int) -> List[TaskExecutionMeta]:
        return [TaskExecutionMeta(*r) for r in self.db.rows(
            f"{_TASK} WHERE status = ? AND retry_time <= ? ORDER BY id",
            (TaskStatus.RETRYING.value, now))]

    def requeue_for_retry(self, task_execution_id: int) -> None:
        self.db.execute(
            "UPDATE task_execution SET status = ?, try_number = try_number + 1, "
            "heartbeat_time = NULL, retry_time = NULL WHERE id = ?",
            (TaskStatus.QUEUED.value, task_execution_id))

    def claim(self, task_execution_id: int, pid: int, pid_start: str, now: int,
              log_path: Optional[str] = None, beating: bool = True) -> bool:
        """A worker takes its QUEUED execution: true for exactly one claimant. Not `beating`:
        its heartbeats are due from its worker's first one on (a Ray try may wait for a CPU)."""
        self.db.execute(
            "UPDATE task_execution SET status = ?, pid = ?, pid_start = ?, heartbeat_time = ?, "
            "log_path = coalesce(?, log_path) WHERE id = ? AND status = ?",
            (TaskStatus.RUNNING.value, pid, pid_start, now if beating else None, log_path,
             task_execution_id, TaskStatus.QUEUED.value))
        return self.db.changes == 1

    def unclaim(self, task_execution_id: int, pid: int, try_number: int) -> bool:
        """Undo a claim whose worker never started the task: QUEUED again, to be launched
        anew (true if it was still that worker's)."""
        self.db.execute(
            "UPDATE task_execution SET status = ?, pid = NULL, pid_start = NULL, "
            "heartbeat_time = NULL WHERE id = ? AND status = ? AND pid = ? AND try_number = ?",
            (TaskStatus.QUEUED.value, task_execution_id, TaskStatus.RUNNING.value, pid,
             try_number))
        return self.db.changes == 1

    def process_of(self, task_execution_id: int) -> Tuple[Optional[int], Optional[str]]:
        row = self.db.one("SELECT pid, pid_start FROM task_execution WHERE id = ?",
                          (task_execution_id,))
        return (row[0], row[1]) if row else (None, None)

    def snapshot_file(self, snapshot_id: int) -> Tuple[str, str]:
        """(blob uri, workflow file name) of a snapshot."""
        row = self.db.one("SELECT uri, file_name FROM workflow_snapshot WHERE id = ?",
                          (snapshot_id,))
        if row is None:
            raise NotFound(f"no workflow snapshot with id {snapshot_id}")
        return row[0], row[1]

    def stop_timeouts(self, snapshot_id: int) -> Dict[str, float]:
        """Task name → its `stop_timeout`, for the tasks of a snapshot that state one (those
        uploaded before the option existed do not)."""
        row = self.db.one("SELECT structure FROM workflow_snapshot WHERE id = ?", (snapshot_id,))
        tasks = json.loads(row[0]).get("tasks", []) if row else []
        return {task["name"]: float(task["stop_timeout"]) for task in tasks
                if isinstance(task.get("stop_timeout"), (int, float))}

    def heartbeat(self, task_execution_id: int, pid: int, try_number: int, now: int) -> bool:
        """The worker of try `try_number`, claimed with `pid`, is alive (false: it is not the
        claimed one any more)."""
        self.db.execute("UPDATE task_execution SET heartbeat_time = ? WHERE id = ? AND pid = ? "
                        "AND try_number = ?", (now, task_execution_id, pid, try_number))
        return self.db.changes == 1

    # -- periodic task timers -----------------------------------------------------------------

    def put_timer(self, execution_id: int, task_name: str, expression: str, anchor: int,
                  next_fire: int) -> None:
        self.db.execute(
            "INSERT INTO task_timer (workflow_execution_id, task_name, expression, anchor_time, "
            "next_fire_time) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
            "next_fire_time = excluded.next_fire_time",
            (execution_id, task_name, expression, anchor, next_fire))

    def due_timers(self, now: int) -> List[tuple]:
        return self.db.rows(
            "SELECT t.workflow_execution_id, t.task_name, t.expression, t.anchor_time, "
            "t.next_fire_time FROM task_timer t JOIN workflow_execution e "
            "ON e.id = t.workflow_execution_id WHERE t.next_fire_time <= ? AND e.status = ? "
            "ORDER BY t.next_fire_time", (now, WorkflowStatus.RUNNING.value))

    def next_timer_time(self) -> Optional[int]:
        return self.db.scalar("SELECT min(next_fire_time) FROM task_timer")

    def delete_timers(self, execution_id: int) -> None:
        self.db.execute("DELETE FROM task_timer WHERE workflow_execution_id = ?",
                        (execution_id,))

    def has_timers(self, execution_id: int) -> bool:
        return self.db.one("SELECT 1 FROM task_timer WHERE workflow_execution_id = ?",
                           (execution_id,)) is not None

    # -- rule state ---------------------------------------------------------------------------

    def rule_states(self, execution_id: int) -> Dict[tuple, Any]:
        rows = self.db.rows("SELECT task_name, rule_index, name, value FROM rule_state "
                            "WHERE workflow_execution_id = ?", (execution_id,))
        return {(task, index, name): json.loads(value) if value is not None else None
                for task, index, name, value in rows}

    def put_rule_state(self, execution_id: int, task_name: str, rule_index: int, name: str,
                       value: Any) -> None:
        self.db.execute(
            "INSERT INTO rule_state (workflow_execution_id, task_name, rule_index, name, value) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value",
            (execution_id, task_name, rule_index, name, json.dumps(value)))

    def next_retry_time(self) -> Optional[int]:
        return self.db.scalar("SELECT min(retry_time) FROM task_execution WHERE status = ?",
                              (TaskStatus.RETRYING.value,))
