from aiflow_lite.ops.task_execution_ops import *  # noqa: F403
