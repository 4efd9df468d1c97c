from aiflow_lite.conditions import (
    MeetAllCondition,
    MeetAnyCondition,
    SingleEventCondition,
    TaskStatusCondition,
)

__all__ = ["MeetAllCondition", "MeetAnyCondition", "SingleEventCondition", "TaskStatusCondition"]
