from aiflow_lite.ops.workflow_execution_ops import *  # noqa: F403
