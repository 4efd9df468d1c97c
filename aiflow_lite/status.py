"""The value enums of the spec: task and workflow statuses, task actions, execution types, and
the meta service's model version stages."""

from __future__ import annotations

from enum import Enum


class TaskAction(str, Enum):
    """What a rule does to its task: START a new execution if none runs, STOP the running one,
    RESTART (stop the running one, if any, and start a new one)."""

    START = "START"
    STOP = "STOP"
    RESTART = "RESTART"


class TaskStatus(str, Enum):
    INIT = "INIT"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    RETRYING = "RETRYING"


class WorkflowStatus(str, Enum):
    INIT = "INIT"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    STOPPED = "STOPPED"


class ExecutionType(str, Enum):
    """What started an execution."""

    MANUAL = "MANUAL"
    EVENT = "EVENT"
    PERIODIC = "PERIODIC"


#: How the reason of a task execution started with its workflow execution begins.
STARTED_WITH_EXECUTION = "the execution started"


class ModelVersionStage(str, Enum):
    """Where a model version is in its life. At most one version of a model is DEPLOYED:
    deploying another moves it to DEPRECATED. DELETED versions keep their number and lineage."""

    GENERATED = "GENERATED"
    VALIDATED = "VALIDATED"
    DEPLOYED = "DEPLOYED"
    DEPRECATED = "DEPRECATED"
    DELETED = "DELETED"


TASK_FINISHED = frozenset({TaskStatus.SUCCESS, TaskStatus.FAILED, TaskStatus.STOPPED})
TASK_ACTIVE = frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.STOPPING,
                         TaskStatus.RETRYING})
WORKFLOW_FINISHED = frozenset({WorkflowStatus.SUCCESS, WorkflowStatus.FAILED,
                               WorkflowStatus.STOPPED})


def parse_enum(enum: type, value: object, what: str) -> Enum:
    """`TaskAction.START` or 'START' / 'start' → the member; anything else is one clear error."""
    from aiflow_lite.errors import InvalidInput

    if isinstance(value, enum):
        return value
    if isinstance(value, str) and value.upper() in enum.__members__:
        return enum[value.upper()]
    choices = ", ".join(enum.__members__)
    raise InvalidInput(f"invalid {what} {value!r}: use one of {choices}")
