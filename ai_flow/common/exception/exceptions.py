from aiflow_lite.errors import AIFlowException

__all__ = ["AIFlowException"]
