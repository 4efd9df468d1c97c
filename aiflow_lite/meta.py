"""The metadata records that `ops` and the commands return: frozen values, no behaviour."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterator, List, NamedTuple, Optional


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


# -- the meta service ---------------------------------------------------------------------------
# `lineage`: where a record came from when a task registered it ({} otherwise): workflow
# ("namespace.name"), snapshot_id, workflow_execution_id, task_execution_id, task_name.


@dataclass(frozen=True)
class DatasetMeta:
    namespace: str
    name: str
    uri: str
    data_format: Optional[str]
    description: Optional[str]
    schema: Dict[str, Any]  # column name -> type name
    properties: Dict[str, Any]
    create_time: int
    update_time: int
    lineage: Dict[str, Any]

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ModelMeta:
    namespace: str
    name: str
    description: Optional[str]
    properties: Dict[str, Any]
    create_time: int
    update_time: int
    latest_version: Optional[int] = None  # the highest version number given out, if any

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ModelVersionMeta:
    namespace: str
    model_name: str
    version: int
    uri: str
    stage: str
    description: Optional[str]
    properties: Dict[str, Any]
    create_time: int
    update_time: int
    datasets: List[str]  # the datasets it was made from (names in its namespace)
    lineage: Dict[str, Any]

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MetricMeta:
    id: int
    namespace: str
    key: str
    value: float
    step: int
    timestamp: int
    model_name: Optional[str] = None
    model_version: Optional[int] = None
    dataset_name: Optional[str] = None
    workflow_execution_id: Optional[int] = None
    task_execution_id: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


class MetricPoint(NamedTuple):
    step: int
    value: float
    timestamp: int


@dataclass(frozen=True)
class MetricHistory:
    """A metric's points in the order they were logged, as columns (what a chart draws); it
    iterates as `MetricPoint`s. Columns, because a 10,000-point history read as 10,000 records
    took longer than the query."""

    namespace: str
    key: str
    steps: List[int]
    values: List[float]
    timestamps: List[int]

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[MetricPoint]:
        return map(MetricPoint, self.steps, self.values, self.timestamps)

    def __getitem__(self, index: int) -> MetricPoint:
        return MetricPoint(self.steps[index], self.values[index], self.timestamps[index])

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ArtifactMeta:
    namespace: str
    name: str
    version: int
    uri: str  # where the blob manager keeps it
    file_name: str
    content_hash: str  # sha256 of the bytes
    size: int
    description: Optional[str]
    create_time: int
    lineage: Dict[str, Any]

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TaskOutputs:
    """What a task execution registered in the meta service (metrics: the latest of each)."""

    task_execution_id: int
    model_versions: List[ModelVersionMeta]
    datasets: List[DatasetMeta]
    artifacts: List[ArtifactMeta]
    metrics: List[MetricMeta]

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)
