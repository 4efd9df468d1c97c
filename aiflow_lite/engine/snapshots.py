"""What the scheduler keeps of snapshots: their unpickled workflows and the event keys their
rules expect. A snapshot never changes, so neither does what is cached of it; an execution's
snapshot never changes either."""

from __future__ import annotations

from typing import Any, Dict

from aiflow_lite.engine.executions import ExecutionStore


class SnapshotCache:
    def __init__(self, executions: ExecutionStore) -> None:
        self.executions = executions
        self._workflows: Dict[int, Any] = {}  # snapshot id → unpickled Workflow
        self._snapshot_of: Dict[int, int] = {}  # execution id → its snapshot id
        self._rule_keys: Dict[int, frozenset] = {}  # snapshot id → keys its rules expect

    def workflow(self, snapshot_id: int) -> Any:
        """The Workflow of a snapshot (unpickled once, then cached)."""
        workflow = self._workflows.get(snapshot_id)
        if workflow is None:
            from aiflow_lite.loader import unpickle_workflow

            workflow = unpickle_workflow(self.executions.snapshot_object(snapshot_id))
            self._workflows[snapshot_id] = workflow
        return workflow

    def listens(self, execution_id: int, key: str) -> bool:
        """Whether a rule of the execution's workflow expects `key` (False for an execution
        that does not exist)."""
        snapshot_id = self._snapshot_of.get(execution_id)
        if snapshot_id is None:
            meta = self.executions.get_execution(execution_id)
            if meta is None:
                return False
            snapshot_id = self._snapshot_of[execution_id] = meta.snapshot_id
        return self.expects(snapshot_id, key)

    def expects(self, snapshot_id: int, key: str) -> bool:
        keys = self._rule_keys.get(snapshot_id)
        if keys is None:
            workflow = self.workflow(snapshot_id)
            keys = self._rule_keys[snapshot_id] = frozenset(
                k for rules in workflow.rules.values() for rule in rules
                for k in rule.condition.expect_event_keys)
        return key in keys
