"""The metadata records that `ops` and the commands return: frozen values, no behaviour."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional


@dataclass(frozen=True)
class NamespaceMeta:
    name: str
    properties: Dict[str, Any]
    create_time: int

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WorkflowMeta:
    id: int
    namespace: str
    name: str
    is_enabled: bool
    create_time: int
    update_time: int
    structure: Dict[str, Any]
    snapshot_id: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WorkflowSnapshotMeta:
    id: int
    workflow_id: int
    uri: str
    signature: str
    create_time: int

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def load_json(text: Optional[str]) -> Any:
    return json.loads(text) if text else {}


@dataclass
class WorkflowExecution:
    """One run of a workflow (the spec's `ai_flow.model.workflow_execution.WorkflowExecution`)."""

    workflow_id: int
    execution_type: Any
    begin_date: Any = None
    end_date: Any = None
    status: Any = None
    id: Optional[int] = None


@dataclass
class TaskExecution:
    """One run of a task within a workflow execution; `sequence_number` counts its runs."""

    workflow_execution_id: int
    task_name: str
    sequence_number: int
    execution_type: Any
    begin_date: Any = None
    end_date: Any = None
    status: Any = "INIT"
    id: Optional[int] = None


@dataclass(frozen=True)
class TaskExecutionKey:
    workflow_execution_id: int
    task_name: str
    seq_num: int


@dataclass(frozen=True)
class WorkflowExecutionMeta:
    id: int
    workflow_id: int
    namespace: str
    workflow_name: str
    snapshot_id: int
    execution_type: str
    status: str
    begin_time: Optional[int]
    end_time: Optional[int]
    reason: Optional[str]
    #: What an idle RUNNING execution still listens for (None while a task is active, and
    #: once it has finished): "waiting for 'num' (EveryHundred)".
    waiting_for: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TaskExecutionMeta:
    id: int
    workflow_execution_id: int
    task_name: str
    sequence_number: int
    execution_type: str
    status: str
    try_number: int
    begin_time: Optional[int]
    end_time: Optional[int]
    pid: Optional[int]
    heartbeat_time: Optional[int]
    reason: Optional[str]
    stop_reason: Optional[str] = None
    log_path: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WorkflowScheduleMeta:
    id: int
    workflow_id: int
    expression: str
    is_paused: bool
    next_fire_time: Optional[int]
    create_time: int

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WorkflowTriggerMeta:
    id: int
    workflow_id: int
    description: Dict[str, Any]
    is_paused: bool
    create_time: int

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)
