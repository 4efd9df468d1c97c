from aiflow_lite.state import (
    State,
    StateDescriptor,
    StateType,
    ValueState,
    ValueStateDescriptor,
)

__all__ = ["State", "StateDescriptor", "StateType", "ValueState", "ValueStateDescriptor"]
