"""Workflow schedules and workflow triggers: their SQL, behind verbs."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from aiflow_lite.errors import InvalidInput, NotFound
from aiflow_lite.events import now_ms
from aiflow_lite.meta import WorkflowScheduleMeta, WorkflowTriggerMeta, load_json
from aiflow_lite.schema import next_id
from aiflow_lite.sqlite import Database

_SCHEDULE = ("SELECT id, workflow_id, expression, is_paused, next_fire_time, create_time "
             "FROM workflow_schedule")
log = logging.getLogger(__name__)
_BROKEN = object()  # the cached "rule" of a trigger that no longer unpickles
_TRIGGER = "SELECT id, workflow_id, description, is_paused, create_time FROM workflow_trigger"


@dataclass(frozen=True)
class DueSchedule:
    id: int
    workflow_id: int
    expression: str
    anchor_time: int
    next_fire_time: int


def _schedule(row: tuple) -> WorkflowScheduleMeta:
    sid, wid, expression, paused, next_fire, created = row
    return WorkflowScheduleMeta(sid, wid, expression, bool(paused), next_fire, created)


def _trigger(row: tuple) -> WorkflowTriggerMeta:
    tid, wid, description, paused, created = row
    return WorkflowTriggerMeta(tid, wid, load_json(description), bool(paused), created)


class ScheduleStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._rules: Dict[int, Any] = {}  # trigger id → its unpickled WorkflowRule (immutable)

    def latest_snapshot(self, workflow_id: int) -> int:
        """The workflow's current snapshot: the one its last upload stored or re-selected."""
        snapshot = self.db.scalar("SELECT snapshot_id FROM workflow WHERE id = ?",
                                  (workflow_id,))
        if snapshot is None:
            raise NotFound(f"workflow {workflow_id} has no snapshot; upload it again")
        return int(snapshot)

    # -- schedules ----------------------------------------------------------------------------

    def add_schedule(self, workflow_id: int, expression: str) -> WorkflowScheduleMeta:
        from aiflow_lite.timing import parse_periodic_expression

        parsed = parse_periodic_expression(expression)
        now = now_ms()
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO workflow_schedule (workflow_id, expression, anchor_time, "
                "next_fire_time, create_time) VALUES (?, ?, ?, ?, ?)",
                (workflow_id, parsed.text, now, parsed.next_fire(now, now), now))
            return self.get_schedule(self.db.last_insert_rowid())

    def get_schedule(self, schedule_id: int) -> Optional[WorkflowScheduleMeta]:
        row = self.db.one(f"{_SCHEDULE} WHERE id = ?", (schedule_id,))
        return None if row is None else _schedule(row)

    def list_schedules(self, workflow_id: int) -> List[WorkflowScheduleMeta]:
        return [_schedule(r) for r in self.db.rows(f"{_SCHEDULE} WHERE workflow_id = ? "
                                                   "ORDER BY id", (workflow_id,))]

    def set_schedule_paused(self, schedule_id: int, paused: bool) -> None:
        with self.db.transaction():
            meta = self._require("workflow_schedule", schedule_id)
            if not paused and meta:
                from aiflow_lite.timing import parse_periodic_expression

                expression, anchor = self.db.one(
                    "SELECT expression, anchor_time FROM workflow_schedule WHERE id = ?",
                    (schedule_id,))
                now = now_ms()  # resuming does not fire the runs missed while paused
                self.db.execute("UPDATE workflow_schedule SET next_fire_time = ? WHERE id = ?",
                                (parse_periodic_expression(expression).next_fire(now, anchor),
                                 schedule_id))
            self.db.execute("UPDATE workflow_schedule SET is_paused = ? WHERE id = ?",
                            (int(paused), schedule_id))

    def delete_schedule(self, schedule_id: int) -> None:
        with self.db.transaction():
            self._require("workflow_schedule", schedule_id)
            self.db.execute("DELETE FROM workflow_schedule WHERE id = ?", (schedule_id,))

    def delete_schedules(self, workflow_id: int) -> int:
        with self.db.transaction():
            self.db.execute("DELETE FROM workflow_schedule WHERE workflow_id = ?", (workflow_id,))
            return self.db.changes

    def due_schedules(self, now: int) -> List[DueSchedule]:
        return [DueSchedule(*r) for r in self.db.rows(
            "SELECT s.id, s.workflow_id, s.expression, s.anchor_time, s.next_fire_time "
            "FROM workflow_schedule s JOIN workflow w ON w.id = s.workflow_id "
            "WHERE s.is_paused = 0 AND w.is_enabled = 1 AND s.next_fire_time <= ? "
            "ORDER BY s.next_fire_time", (now,))]

    def next_schedule_time(self) -> Optional[int]:
        return self.db.scalar("SELECT min(next_fire_time) FROM workflow_schedule "
                              "WHERE is_paused = 0")

    def set_next_fire(self, schedule_id: int, next_fire: int) -> None:
        self.db.execute("UPDATE workflow_schedule SET next_fire_time = ? WHERE id = ?",
                        (next_fire, schedule_id))

    # -- triggers -----------------------------------------------------------------------------

    def add_trigger(self, workflow_id: int, rule: Any) -> WorkflowTriggerMeta:
        import cloudpickle

        from aiflow_lite.conditions import WorkflowRule

        if not isinstance(rule, WorkflowRule):
            raise InvalidInput(f"a workflow trigger needs a WorkflowRule, got "
                               f"{type(rule).__name__}")
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO workflow_trigger (id, workflow_id, rule, description, create_time) "
                f"VALUES ({next_id('workflow_trigger')}, ?, ?, ?, ?)",
                (workflow_id, cloudpickle.dumps(rule), json.dumps(rule.describe()), now_ms()))
            return self.get_trigger(self.db.last_insert_rowid())

    def get_trigger(self, trigger_id: int) -> Optional[WorkflowTriggerMeta]:
        row = self.db.one(f"{_TRIGGER} WHERE id = ?", (trigger_id,))
        return None if row is None else _trigger(row)

    def list_triggers(self, workflow_id: int) -> List[WorkflowTriggerMeta]:
        return [_trigger(r) for r in self.db.rows(f"{_TRIGGER} WHERE workflow_id = ? "
                                                  "ORDER BY id", (workflow_id,))]

    def active_triggers(self, namespace: str, key: str) -> List[Tuple[WorkflowTriggerMeta, Any]]:
        """(trigger, its WorkflowRule) for the unpaused triggers of enabled workflows in
        `namespace` whose condition expects `key`."""
        rows = self.db.rows(
            "SELECT t.id, t.workflow_id, t.description, t.is_paused, t.create_time "
            "FROM workflow_trigger t JOIN workflow w ON w.id = t.workflow_id "
            "WHERE t.is_paused = 0 AND w.is_enabled = 1 AND w.namespace = ? ORDER BY t.id",
            (namespace,))
        found = []
        for row in rows:
            rule = self._rule(row[0])
            if rule is not _BROKEN and key in rule.condition.expect_event_keys:
                found.append((_trigger(row), rule))
        return found

    def _rule(self, trigger_id: int) -> Any:
        """A trigger's rule, unpickled once: user events are many, trigger rules never change.
        One that no longer unpickles (its condition's module changed or is gone) is logged
        once and skipped from then on, never allowed to jam the scheduler's cursor."""
        rule = self._rules.get(trigger_id)
        if rule is None:
            import cloudpickle

            try:
                rule = cloudpickle.loads(self.db.scalar(
                    "SELECT rule FROM workflow_trigger WHERE id = ?", (trigger_id,)))
                rule.condition.expect_event_keys  # noqa: B018 - what every event reads
            except Exception:
                log.exception("workflow trigger %d can no longer be loaded; it is skipped "
                              "(delete it and add it again)", trigger_id)
                rule = _BROKEN
            self._rules[trigger_id] = rule
        return rule

    def trigger_states(self, trigger_id: int) -> Dict[str, Any]:
        """The ValueStates of a trigger's condition, by name."""
        return {name: None if value is None else json.loads(value)
                for name, value in self.db.rows(
                    "SELECT name, value FROM trigger_state WHERE trigger_id = ?", (trigger_id,))}

    def put_trigger_state(self, trigger_id: int, name: str, value: Any) -> None:
        self.db.execute(
            "INSERT INTO trigger_state (trigger_id, name, value) VALUES (?, ?, ?) "
            "ON CONFLICT DO UPDATE SET value = excluded.value",
            (trigger_id, name, json.dumps(value)))

    def set_trigger_paused(self, trigger_id: int, paused: bool) -> None:
        with self.db.transaction():
            self._require("workflow_trigger", trigger_id)
            self.db.execute("UPDATE workflow_trigger SET is_paused = ? WHERE id = ?",
                            (int(paused), trigger_id))

    def delete_trigger(self, trigger_id: int) -> None:
        with self.db.transaction():
            self._require("workflow_trigger", trigger_id)
            self.db.execute("DELETE FROM workflow_trigger WHERE id = ?", (trigger_id,))

    def delete_triggers(self, workflow_id: int) -> int:
        with self.db.transaction():
            self.db.execute("DELETE FROM workflow_trigger WHERE workflow_id = ?", (workflow_id,))
            return self.db.changes

    def _require(self, table: str, row_id: int) -> bool:
        if self.db.one(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)) is None:
            raise NotFound(f"no {table.replace('_', ' ')} with id {row_id}")
        return True

