from aiflow_lite.conditions import Context

__all__ = ["Context"]
