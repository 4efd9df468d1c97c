from aiflow_lite.status import TaskAction

__all__ = ["TaskAction"]
