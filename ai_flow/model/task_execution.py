from aiflow_lite.meta import TaskExecution, TaskExecutionKey

__all__ = ["TaskExecution", "TaskExecutionKey"]
