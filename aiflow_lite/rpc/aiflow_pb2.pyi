from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Event(_message.Message):
    __slots__ = ("key", "value", "namespace", "sender", "context", "offset", "create_time")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    namespace: str
    sender: str
    context: str
    offset: int
    create_time: int
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., namespace: _Optional[str] = ..., sender: _Optional[str] = ..., context: _Optional[str] = ..., offset: _Optional[int] = ..., create_time: _Optional[int] = ...) -> None: ...

class EventList(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class SendEventsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class EventFilter(_message.Message):
    __slots__ = ("keys", "namespace", "sender", "begin_offset", "begin_time", "limit")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    BEGIN_OFFSET_FIELD_NUMBER: _ClassVar[int]
    BEGIN_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    namespace: str
    sender: str
    begin_offset: int
    begin_time: int
    limit: int
    def __init__(self, keys: _Optional[_Iterable[str]] = ..., namespace: _Optional[str] = ..., sender: _Optional[str] = ..., begin_offset: _Optional[int] = ..., begin_time: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class CountReply(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class OffsetReply(_message.Message):
    __slots__ = ("offset",)
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    offset: int
    def __init__(self, offset: _Optional[int] = ...) -> None: ...

class TimeToOffsetRequest(_message.Message):
    __slots__ = ("time",)
    TIME_FIELD_NUMBER: _ClassVar[int]
    time: int
    def __init__(self, time: _Optional[int] = ...) -> None: ...

class CursorRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CursorReply(_message.Message):
    __slots__ = ("offset",)
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    offset: int
    def __init__(self, offset: _Optional[int] = ...) -> None: ...

class AdvanceCursorRequest(_message.Message):
    __slots__ = ("name", "offset")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    name: str
    offset: int
    def __init__(self, name: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class ListenRequest(_message.Message):
    __slots__ = ("keys", "namespace", "begin_offset", "cursor")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    BEGIN_OFFSET_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    namespace: str
    begin_offset: int
    cursor: str
    def __init__(self, keys: _Optional[_Iterable[str]] = ..., namespace: _Optional[str] = ..., begin_offset: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class NamespaceMeta(_message.Message):
    __slots__ = ("name", "properties_json", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    properties_json: str
    create_time: int
    def __init__(self, name: _Optional[str] = ..., properties_json: _Optional[str] = ..., create_time: _Optional[int] = ...) -> None: ...

class WorkflowMeta(_message.Message):
    __slots__ = ("id", "namespace", "name", "is_enabled", "create_time", "update_time", "structure_json", "snapshot_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    IS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STRUCTURE_JSON_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    namespace: str
    name: str
    is_enabled: bool
    create_time: int
    update_time: int
    structure_json: str
    snapshot_id: int
    def __init__(self, id: _Optional[int] = ..., namespace: _Optional[str] = ..., name: _Optional[str] = ..., is_enabled: _Optional[bool] = ..., create_time: _Optional[int] = ..., update_time: _Optional[int] = ..., structure_json: _Optional[str] = ..., snapshot_id: _Optional[int] = ...) -> None: ...

class WorkflowSnapshotMeta(_message.Message):
    __slots__ = ("id", "workflow_id", "uri", "signature", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    workflow_id: int
    uri: str
    signature: str
    create_time: int
    def __init__(self, id: _Optional[int] = ..., workflow_id: _Optional[int] = ..., uri: _Optional[str] = ..., signature: _Optional[str] = ..., create_time: _Optional[int] = ...) -> None: ...

class WorkflowExecutionMeta(_message.Message):
    __slots__ = ("id", "workflow_id", "namespace", "workflow_name", "snapshot_id", "execution_type", "status", "begin_time", "end_time", "reason", "waiting_for")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BEGIN_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    WAITING_FOR_FIELD_NUMBER: _ClassVar[int]
    id: int
    workflow_id: int
    namespace: str
    workflow_name: str
    snapshot_id: int
    execution_type: str
    status: str
    begin_time: int
    end_time: int
    reason: str
    waiting_for: str
    def __init__(self, id: _Optional[int] = ..., workflow_id: _Optional[int] = ..., namespace: _Optional[str] = ..., workflow_name: _Optional[str] = ..., snapshot_id: _Optional[int] = ..., execution_type: _Optional[str] = ..., status: _Optional[str] = ..., begin_time: _Optional[int] = ..., end_time: _Optional[int] = ..., reason: _Optional[str] = ..., waiting_for: _Optional[str] = ...) -> None: ...

class TaskExecutionMeta(_message.Message):
    __slots__ = ("id", "workflow_execution_id", "task_name", "sequence_number", "execution_type", "status", "try_number", "begin_time", "end_time", "pid", "heartbeat_time", "reason", "stop_reason", "log_path")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    BEGIN_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STOP_REASON_FIELD_NUMBER: _ClassVar[int]
    LOG_PATH_FIELD_NUMBER: _ClassVar[int]
    id: int
    workflow_execution_id: int
    task_name: str
    sequence_number: int
    execution_type: str
    status: str
    try_number: int
    begin_time: int
    end_time: int
    pid: int
    heartbeat_time: int
    reason: str
    stop_reason: str
    log_path: str
    def __init__(self, id: _Optional[int] = ..., workflow_execution_id: _Optional[int] = ..., task_name: _Optional[str] = ..., sequence_number: _Optional[int] = ..., execution_type: _Optional[str] = ..., status: _Optional[str] = ..., try_number: _Optional[int] = ..., begin_time: _Optional[int] = ..., end_time: _Optional[int] = ..., pid: _Optional[int] = ..., heartbeat_time: _Optional[int] = ..., reason: _Optional[str] = ..., stop_reason: _Optional[str] = ..., log_path: _Optional[str] = ...) -> None: ...

class WorkflowScheduleMeta(_message.Message):
    __slots__ = ("id", "workflow_id", "expression", "is_paused", "next_fire_time", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    IS_PAUSED_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    workflow_id: int
    expression: str
    is_paused: bool
    next_fire_time: int
    create_time: int
    def __init__(self, id: _Optional[int] = ..., workflow_id: _Optional[int] = ..., expression: _Optional[str] = ..., is_paused: _Optional[bool] = ..., next_fire_time: _Optional[int] = ..., create_time: _Optional[int] = ...) -> None: ...

class WorkflowTriggerMeta(_message.Message):
    __slots__ = ("id", "workflow_id", "description_json", "is_paused", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_JSON_FIELD_NUMBER: _ClassVar[int]
    IS_PAUSED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    workflow_id: int
    description_json: str
    is_paused: bool
    create_time: int
    def __init__(self, id: _Optional[int] = ..., workflow_id: _Optional[int] = ..., description_json: _Optional[str] = ..., is_paused: _Optional[bool] = ..., create_time: _Optional[int] = ...) -> None: ...

class DatasetMeta(_message.Message):
    __slots__ = ("namespace", "name", "uri", "data_format", "description", "schema_json", "properties_json", "create_time", "update_time", "lineage_json")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    DATA_FORMAT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LINEAGE_JSON_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    uri: str
    data_format: str
    description: str
    schema_json: str
    properties_json: str
    create_time: int
    update_time: int
    lineage_json: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., uri: _Optional[str] = ..., data_format: _Optional[str] = ..., description: _Optional[str] = ..., schema_json: _Optional[str] = ..., properties_json: _Optional[str] = ..., create_time: _Optional[int] = ..., update_time: _Optional[int] = ..., lineage_json: _Optional[str] = ...) -> None: ...

class ModelMeta(_message.Message):
    __slots__ = ("namespace", "name", "description", "properties_json", "create_time", "update_time", "latest_version")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    description: str
    properties_json: str
    create_time: int
    update_time: int
    latest_version: int
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., properties_json: _Optional[str] = ..., create_time: _Optional[int] = ..., update_time: _Optional[int] = ..., latest_version: _Optional[int] = ...) -> None: ...

class ModelVersionMeta(_message.Message):
    __slots__ = ("namespace", "model_name", "version", "uri", "stage", "description", "properties_json", "create_time", "update_time", "datasets", "lineage_json")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    LINEAGE_JSON_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    model_name: str
    version: int
    uri: str
    stage: str
    description: str
    properties_json: str
    create_time: int
    update_time: int
    datasets: _containers.RepeatedScalarFieldContainer[str]
    lineage_json: str
    def __init__(self, namespace: _Optional[str] = ..., model_name: _Optional[str] = ..., version: _Optional[int] = ..., uri: _Optional[str] = ..., stage: _Optional[str] = ..., description: _Optional[str] = ..., properties_json: _Optional[str] = ..., create_time: _Optional[int] = ..., update_time: _Optional[int] = ..., datasets: _Optional[_Iterable[str]] = ..., lineage_json: _Optional[str] = ...) -> None: ...

class MetricMeta(_message.Message):
    __slots__ = ("id", "namespace", "key", "value", "step", "timestamp", "model_name", "model_version", "dataset_name", "workflow_execution_id", "task_execution_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    namespace: str
    key: str
    value: float
    step: int
    timestamp: int
    model_name: str
    model_version: int
    dataset_name: str
    workflow_execution_id: int
    task_execution_id: int
    def __init__(self, id: _Optional[int] = ..., namespace: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[float] = ..., step: _Optional[int] = ..., timestamp: _Optional[int] = ..., model_name: _Optional[str] = ..., model_version: _Optional[int] = ..., dataset_name: _Optional[str] = ..., workflow_execution_id: _Optional[int] = ..., task_execution_id: _Optional[int] = ...) -> None: ...

class MetricHistory(_message.Message):
    __slots__ = ("namespace", "key", "steps", "values", "timestamps")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    steps: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    timestamps: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., steps: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ..., timestamps: _Optional[_Iterable[int]] = ...) -> None: ...

class ArtifactMeta(_message.Message):
    __slots__ = ("namespace", "name", "version", "uri", "file_name", "content_hash", "size", "description", "create_time", "lineage_json")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LINEAGE_JSON_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    version: int
    uri: str
    file_name: str
    content_hash: str
    size: int
    description: str
    create_time: int
    lineage_json: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., uri: _Optional[str] = ..., file_name: _Optional[str] = ..., content_hash: _Optional[str] = ..., size: _Optional[int] = ..., description: _Optional[str] = ..., create_time: _Optional[int] = ..., lineage_json: _Optional[str] = ...) -> None: ...

class TaskOutputs(_message.Message):
    __slots__ = ("task_execution_id", "model_versions", "datasets", "artifacts", "metrics")
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    task_execution_id: int
    model_versions: _containers.RepeatedCompositeFieldContainer[ModelVersionMeta]
    datasets: _containers.RepeatedCompositeFieldContainer[DatasetMeta]
    artifacts: _containers.RepeatedCompositeFieldContainer[ArtifactMeta]
    metrics: _containers.RepeatedCompositeFieldContainer[MetricMeta]
    def __init__(self, task_execution_id: _Optional[int] = ..., model_versions: _Optional[_Iterable[_Union[ModelVersionMeta, _Mapping]]] = ..., datasets: _Optional[_Iterable[_Union[DatasetMeta, _Mapping]]] = ..., artifacts: _Optional[_Iterable[_Union[ArtifactMeta, _Mapping]]] = ..., metrics: _Optional[_Iterable[_Union[MetricMeta, _Mapping]]] = ...) -> None: ...

class NameRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class NamespacePropertiesRequest(_message.Message):
    __slots__ = ("name", "properties_json")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    name: str
    properties_json: str
    def __init__(self, name: _Optional[str] = ..., properties_json: _Optional[str] = ...) -> None: ...

class OptionalNamespaceReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: NamespaceMeta
    def __init__(self, result: _Optional[_Union[NamespaceMeta, _Mapping]] = ...) -> None: ...

class NamespaceReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: NamespaceMeta
    def __init__(self, result: _Optional[_Union[NamespaceMeta, _Mapping]] = ...) -> None: ...

class NamespaceList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[NamespaceMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[NamespaceMeta, _Mapping]]] = ...) -> None: ...

class PageRequest(_message.Message):
    __slots__ = ("limit", "offset")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    limit: int
    offset: int
    def __init__(self, limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class WorkflowRequest(_message.Message):
    __slots__ = ("workflow_name", "namespace")
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    workflow_name: str
    namespace: str
    def __init__(self, workflow_name: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class WorkflowPageRequest(_message.Message):
    __slots__ = ("workflow_name", "namespace", "limit", "offset")
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    workflow_name: str
    namespace: str
    limit: int
    offset: int
    def __init__(self, workflow_name: _Optional[str] = ..., namespace: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class NamespacePageRequest(_message.Message):
    __slots__ = ("namespace", "limit", "offset")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    limit: int
    offset: int
    def __init__(self, namespace: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class OptionalWorkflowReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: WorkflowMeta
    def __init__(self, result: _Optional[_Union[WorkflowMeta, _Mapping]] = ...) -> None: ...

class WorkflowList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[WorkflowMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[WorkflowMeta, _Mapping]]] = ...) -> None: ...

class UploadWorkflowsRequest(_message.Message):
    __slots__ = ("snapshot_zip", "workflow_file_name", "artifact_names")
    SNAPSHOT_ZIP_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_NAMES_FIELD_NUMBER: _ClassVar[int]
    snapshot_zip: bytes
    workflow_file_name: str
    artifact_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, snapshot_zip: _Optional[bytes] = ..., workflow_file_name: _Optional[str] = ..., artifact_names: _Optional[_Iterable[str]] = ...) -> None: ...

class SnapshotIdRequest(_message.Message):
    __slots__ = ("snapshot_id",)
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: int
    def __init__(self, snapshot_id: _Optional[int] = ...) -> None: ...

class OptionalSnapshotReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: WorkflowSnapshotMeta
    def __init__(self, result: _Optional[_Union[WorkflowSnapshotMeta, _Mapping]] = ...) -> None: ...

class SnapshotList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[WorkflowSnapshotMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[WorkflowSnapshotMeta, _Mapping]]] = ...) -> None: ...

class ExecutionIdRequest(_message.Message):
    __slots__ = ("workflow_execution_id",)
    WORKFLOW_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    workflow_execution_id: int
    def __init__(self, workflow_execution_id: _Optional[int] = ...) -> None: ...

class ExecutionPageRequest(_message.Message):
    __slots__ = ("workflow_execution_id", "limit", "offset")
    WORKFLOW_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    workflow_execution_id: int
    limit: int
    offset: int
    def __init__(self, workflow_execution_id: _Optional[int] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class OptionalExecutionReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: WorkflowExecutionMeta
    def __init__(self, result: _Optional[_Union[WorkflowExecutionMeta, _Mapping]] = ...) -> None: ...

class ExecutionList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[WorkflowExecutionMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[WorkflowExecutionMeta, _Mapping]]] = ...) -> None: ...

class TaskExecutionIdRequest(_message.Message):
    __slots__ = ("task_execution_id",)
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    task_execution_id: int
    def __init__(self, task_execution_id: _Optional[int] = ...) -> None: ...

class TaskRequest(_message.Message):
    __slots__ = ("workflow_execution_id", "task_name")
    WORKFLOW_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    workflow_execution_id: int
    task_name: str
    def __init__(self, workflow_execution_id: _Optional[int] = ..., task_name: _Optional[str] = ...) -> None: ...

class OptionalTaskExecutionReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: TaskExecutionMeta
    def __init__(self, result: _Optional[_Union[TaskExecutionMeta, _Mapping]] = ...) -> None: ...

class TaskExecutionList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[TaskExecutionMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[TaskExecutionMeta, _Mapping]]] = ...) -> None: ...

class ScheduleIdRequest(_message.Message):
    __slots__ = ("schedule_id",)
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: int
    def __init__(self, schedule_id: _Optional[int] = ...) -> None: ...

class AddScheduleRequest(_message.Message):
    __slots__ = ("expression", "workflow_name", "namespace")
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    expression: str
    workflow_name: str
    namespace: str
    def __init__(self, expression: _Optional[str] = ..., workflow_name: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class ScheduleReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: WorkflowScheduleMeta
    def __init__(self, result: _Optional[_Union[WorkflowScheduleMeta, _Mapping]] = ...) -> None: ...

class OptionalScheduleReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: WorkflowScheduleMeta
    def __init__(self, result: _Optional[_Union[WorkflowScheduleMeta, _Mapping]] = ...) -> None: ...

class ScheduleList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[WorkflowScheduleMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[WorkflowScheduleMeta, _Mapping]]] = ...) -> None: ...

class TriggerIdRequest(_message.Message):
    __slots__ = ("trigger_id",)
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    trigger_id: int
    def __init__(self, trigger_id: _Optional[int] = ...) -> None: ...

class AddTriggerRequest(_message.Message):
    __slots__ = ("rule_pickle", "workflow_name", "namespace")
    RULE_PICKLE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    rule_pickle: bytes
    workflow_name: str
    namespace: str
    def __init__(self, rule_pickle: _Optional[bytes] = ..., workflow_name: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class TriggerReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: WorkflowTriggerMeta
    def __init__(self, result: _Optional[_Union[WorkflowTriggerMeta, _Mapping]] = ...) -> None: ...

class OptionalTriggerReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: WorkflowTriggerMeta
    def __init__(self, result: _Optional[_Union[WorkflowTriggerMeta, _Mapping]] = ...) -> None: ...

class TriggerList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[WorkflowTriggerMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[WorkflowTriggerMeta, _Mapping]]] = ...) -> None: ...

class RegisterDatasetRequest(_message.Message):
    __slots__ = ("name", "uri", "data_format", "description", "schema_json", "properties_json", "namespace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    DATA_FORMAT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    uri: str
    data_format: str
    description: str
    schema_json: str
    properties_json: str
    namespace: str
    def __init__(self, name: _Optional[str] = ..., uri: _Optional[str] = ..., data_format: _Optional[str] = ..., description: _Optional[str] = ..., schema_json: _Optional[str] = ..., properties_json: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class UpdateDatasetRequest(_message.Message):
    __slots__ = ("name", "uri", "data_format", "description", "schema_json", "properties_json", "namespace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    DATA_FORMAT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    uri: str
    data_format: str
    description: str
    schema_json: str
    properties_json: str
    namespace: str
    def __init__(self, name: _Optional[str] = ..., uri: _Optional[str] = ..., data_format: _Optional[str] = ..., description: _Optional[str] = ..., schema_json: _Optional[str] = ..., properties_json: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class MetaNameRequest(_message.Message):
    __slots__ = ("name", "namespace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace: str
    def __init__(self, name: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class MetaPageRequest(_message.Message):
    __slots__ = ("namespace", "limit", "offset")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    limit: int
    offset: int
    def __init__(self, namespace: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class DatasetReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: DatasetMeta
    def __init__(self, result: _Optional[_Union[DatasetMeta, _Mapping]] = ...) -> None: ...

class OptionalDatasetReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: DatasetMeta
    def __init__(self, result: _Optional[_Union[DatasetMeta, _Mapping]] = ...) -> None: ...

class DatasetList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[DatasetMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[DatasetMeta, _Mapping]]] = ...) -> None: ...

class RegisterModelRequest(_message.Message):
    __slots__ = ("name", "description", "properties_json", "namespace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    properties_json: str
    namespace: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., properties_json: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class ModelReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ModelMeta
    def __init__(self, result: _Optional[_Union[ModelMeta, _Mapping]] = ...) -> None: ...

class OptionalModelReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ModelMeta
    def __init__(self, result: _Optional[_Union[ModelMeta, _Mapping]] = ...) -> None: ...

class ModelList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[ModelMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[ModelMeta, _Mapping]]] = ...) -> None: ...

class RegisterModelVersionRequest(_message.Message):
    __slots__ = ("model_name", "uri", "stage", "description", "properties_json", "datasets", "namespace")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    uri: str
    stage: str
    description: str
    properties_json: str
    datasets: _containers.RepeatedScalarFieldContainer[str]
    namespace: str
    def __init__(self, model_name: _Optional[str] = ..., uri: _Optional[str] = ..., stage: _Optional[str] = ..., description: _Optional[str] = ..., properties_json: _Optional[str] = ..., datasets: _Optional[_Iterable[str]] = ..., namespace: _Optional[str] = ...) -> None: ...

class ModelVersionRequest(_message.Message):
    __slots__ = ("model_name", "version", "namespace")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    version: int
    namespace: str
    def __init__(self, model_name: _Optional[str] = ..., version: _Optional[int] = ..., namespace: _Optional[str] = ...) -> None: ...

class LatestModelVersionRequest(_message.Message):
    __slots__ = ("model_name", "stage", "namespace")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    stage: str
    namespace: str
    def __init__(self, model_name: _Optional[str] = ..., stage: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class ListModelVersionsRequest(_message.Message):
    __slots__ = ("model_name", "stage", "namespace", "limit", "offset")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    stage: str
    namespace: str
    limit: int
    offset: int
    def __init__(self, model_name: _Optional[str] = ..., stage: _Optional[str] = ..., namespace: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class UpdateModelVersionRequest(_message.Message):
    __slots__ = ("model_name", "version", "stage", "description", "properties_json", "namespace")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_JSON_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    version: int
    stage: str
    description: str
    properties_json: str
    namespace: str
    def __init__(self, model_name: _Optional[str] = ..., version: _Optional[int] = ..., stage: _Optional[str] = ..., description: _Optional[str] = ..., properties_json: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class ModelVersionReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ModelVersionMeta
    def __init__(self, result: _Optional[_Union[ModelVersionMeta, _Mapping]] = ...) -> None: ...

class OptionalModelVersionReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ModelVersionMeta
    def __init__(self, result: _Optional[_Union[ModelVersionMeta, _Mapping]] = ...) -> None: ...

class ModelVersionList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[ModelVersionMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[ModelVersionMeta, _Mapping]]] = ...) -> None: ...

class LogMetricRequest(_message.Message):
    __slots__ = ("key", "value", "step", "model_name", "model_version", "dataset_name", "namespace")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: float
    step: int
    model_name: str
    model_version: int
    dataset_name: str
    namespace: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ..., step: _Optional[int] = ..., model_name: _Optional[str] = ..., model_version: _Optional[int] = ..., dataset_name: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class LogMetricsRequest(_message.Message):
    __slots__ = ("metrics_json", "step", "model_name", "model_version", "dataset_name", "namespace")
    METRICS_JSON_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    metrics_json: str
    step: int
    model_name: str
    model_version: int
    dataset_name: str
    namespace: str
    def __init__(self, metrics_json: _Optional[str] = ..., step: _Optional[int] = ..., model_name: _Optional[str] = ..., model_version: _Optional[int] = ..., dataset_name: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class ListMetricsRequest(_message.Message):
    __slots__ = ("key", "model_name", "model_version", "dataset_name", "task_execution_id", "namespace", "limit", "offset")
    KEY_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    key: str
    model_name: str
    model_version: int
    dataset_name: str
    task_execution_id: int
    namespace: str
    limit: int
    offset: int
    def __init__(self, key: _Optional[str] = ..., model_name: _Optional[str] = ..., model_version: _Optional[int] = ..., dataset_name: _Optional[str] = ..., task_execution_id: _Optional[int] = ..., namespace: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class MetricHistoryRequest(_message.Message):
    __slots__ = ("key", "model_name", "model_version", "dataset_name", "task_execution_id", "namespace")
    KEY_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    key: str
    model_name: str
    model_version: int
    dataset_name: str
    task_execution_id: int
    namespace: str
    def __init__(self, key: _Optional[str] = ..., model_name: _Optional[str] = ..., model_version: _Optional[int] = ..., dataset_name: _Optional[str] = ..., task_execution_id: _Optional[int] = ..., namespace: _Optional[str] = ...) -> None: ...

class MetricReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: MetricMeta
    def __init__(self, result: _Optional[_Union[MetricMeta, _Mapping]] = ...) -> None: ...

class MetricList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[MetricMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[MetricMeta, _Mapping]]] = ...) -> None: ...

class MetricHistoryReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: MetricHistory
    def __init__(self, result: _Optional[_Union[MetricHistory, _Mapping]] = ...) -> None: ...

class ArtifactFile(_message.Message):
    __slots__ = ("file_name", "content")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    content: bytes
    def __init__(self, file_name: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class RegisterArtifactRequest(_message.Message):
    __slots__ = ("name", "path", "description", "namespace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: ArtifactFile
    description: str
    namespace: str
    def __init__(self, name: _Optional[str] = ..., path: _Optional[_Union[ArtifactFile, _Mapping]] = ..., description: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class ArtifactRequest(_message.Message):
    __slots__ = ("name", "version", "namespace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    namespace: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., namespace: _Optional[str] = ...) -> None: ...

class ListArtifactsRequest(_message.Message):
    __slots__ = ("name", "namespace", "limit", "offset")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace: str
    limit: int
    offset: int
    def __init__(self, name: _Optional[str] = ..., namespace: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class DownloadArtifactRequest(_message.Message):
    __slots__ = ("name", "dest", "version", "namespace", "overwrite")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEST_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    name: str
    dest: str
    version: int
    namespace: str
    overwrite: bool
    def __init__(self, name: _Optional[str] = ..., dest: _Optional[str] = ..., version: _Optional[int] = ..., namespace: _Optional[str] = ..., overwrite: _Optional[bool] = ...) -> None: ...

class DownloadArtifactReply(_message.Message):
    __slots__ = ("artifact", "content")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    artifact: ArtifactMeta
    content: bytes
    def __init__(self, artifact: _Optional[_Union[ArtifactMeta, _Mapping]] = ..., content: _Optional[bytes] = ...) -> None: ...

class ArtifactReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ArtifactMeta
    def __init__(self, result: _Optional[_Union[ArtifactMeta, _Mapping]] = ...) -> None: ...

class OptionalArtifactReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ArtifactMeta
    def __init__(self, result: _Optional[_Union[ArtifactMeta, _Mapping]] = ...) -> None: ...

class ArtifactList(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _containers.RepeatedCompositeFieldContainer[ArtifactMeta]
    def __init__(self, result: _Optional[_Iterable[_Union[ArtifactMeta, _Mapping]]] = ...) -> None: ...

class TaskOutputsReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: TaskOutputs
    def __init__(self, result: _Optional[_Union[TaskOutputs, _Mapping]] = ...) -> None: ...

class IntReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: int
    def __init__(self, result: _Optional[int] = ...) -> None: ...

class StringReply(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: str
    def __init__(self, result: _Optional[str] = ...) -> None: ...

class ServerInfoReply(_message.Message):
    __slots__ = ("version", "home", "scheduler_pid")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    HOME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_PID_FIELD_NUMBER: _ClassVar[int]
    version: str
    home: str
    scheduler_pid: int
    def __init__(self, version: _Optional[str] = ..., home: _Optional[str] = ..., scheduler_pid: _Optional[int] = ...) -> None: ...
