from aiflow_lite.conditions import Condition

__all__ = ["Condition"]
