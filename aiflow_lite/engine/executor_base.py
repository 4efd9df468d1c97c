"""What every executor does alike: make a try's `Order`, know a task's stop timeout, and report a
result (or a loss) as the event the scheduler applies. `executor.LocalExecutor` runs the orders
in processes of this machine, `ray_executor.RayExecutor` on a Ray cluster."""

from __future__ import annotations

import os
from typing import Dict, Optional, Tuple

from aiflow_lite.config import Settings, log_directory
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.engine.launch.protocol import Order
from aiflow_lite.errors import AiflowError
from aiflow_lite.events import Event, InternalKey
from aiflow_lite.meta import TaskExecutionMeta
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.status import STARTED_WITH_EXECUTION, ExecutionType, TaskStatus

STOP_GRACE_S = 5.0  # of a task whose snapshot states no stop_timeout
SENDER = "executor"
WORKER = "worker"  # the sender of a result the worker itself left
RAY_CLAIM_PREFIX = "ray:"  # pid_start of a try claimed for Ray: ray:<owner actor id>


def still_running_elsewhere(count: int, where: str, remedy: str) -> AiflowError:
    """Why a scheduler will not start with this executor: tries of the home run on the other
    one, and reporting them lost would start their retries beside them."""
    return AiflowError(f"{count} task execution(s) of this home still run {where}; {remedy}, "
                       "then switch task_executor (`aiflow status` shows them)")


class ExecutorBase:
    def __init__(self, settings: Settings, store: ExecutionStore, events: EventLog) -> None:
        self.settings = settings
        self.store = store
        self.events = events
        self._snapshots: Dict[int, Tuple[str, str]] = {}  # snapshot id → (uri, file name)
        self._stop_timeouts: Dict[int, Dict[str, float]] = {}  # snapshot id → task → seconds
        self._namespaces: Dict[int, str] = {}  # task execution id → namespace, while launched

    def _order(self, meta: TaskExecutionMeta) -> Optional[Order]:
        """What the worker of `meta` will be told; None (and the execution reported FAILED)
        when it cannot be run at all."""
        execution = self.store.get_execution(meta.workflow_execution_id)
        self._namespaces[meta.id] = execution.namespace
        log_path = os.path.join(
            log_directory(self.settings),
            execution.namespace, execution.workflow_name, str(execution.id),
            f"{meta.task_name}-{meta.sequence_number}.log")
        try:
            os.makedirs(os.path.dirname(log_path), exist_ok=True)
        except OSError as exc:
            self.report(meta.id, meta.try_number, TaskStatus.FAILED,
                        f"its log directory could not be made: {exc}")
            return None
        snapshot = self._snapshots.get(execution.snapshot_id)
        if snapshot is None:  # immutable: read once
            snapshot = self._snapshots[execution.snapshot_id] = \
                self.store.snapshot_file(execution.snapshot_id)
        started_by, trigger = self._started_by(meta)
        return Order(meta.id, meta.try_number, meta.sequence_number, meta.task_name,
                     execution.id, execution.namespace, execution.workflow_name,
                     execution.snapshot_id, snapshot[0], snapshot[1], log_path,
                     started_by, trigger)

    def _started_by(self, meta: TaskExecutionMeta) -> Tuple[str, Optional[dict]]:
        """What started the task execution (see `Order.started_by`), and the event if one did.
        A retry is started by what started its first try."""
        offset, row = self.store.trigger_of(meta.id)
        if offset is not None:
            return "event", None if row is None else Event(*row)._asdict()
        if (meta.reason or "").startswith(STARTED_WITH_EXECUTION):
            return "execution", None
        return ("timer" if meta.execution_type == ExecutionType.PERIODIC.value else "user"), None

    def _stop_timeout(self, task_execution_id: int) -> float:
        meta = self.store.get_task_execution(task_execution_id)
        execution = meta and self.store.get_execution(meta.workflow_execution_id)
        if execution is None:
            return STOP_GRACE_S
        timeouts = self._stop_timeouts.get(execution.snapshot_id)
        if timeouts is None:  # immutable: read once
            timeouts = self._stop_timeouts[execution.snapshot_id] = \
                self.store.stop_timeouts(execution.snapshot_id)
        return timeouts.get(meta.task_name, STOP_GRACE_S)

    def report(self, task_execution_id: int, try_number: int, status: TaskStatus,
               message: Optional[str], sender: str = SENDER) -> None:
        namespace = self._namespaces.pop(task_execution_id, None)
        if namespace is None:
            meta = self.store.get_task_execution(task_execution_id)
            namespace = self.store.get_execution(meta.workflow_execution_id).namespace
        self.events.append(InternalKey.TASK_RESULT.value, status.value, namespace,
                           sender, {"task_execution_id": task_execution_id,
                                    "try_number": try_number, "message": message},
                           internal=True)
