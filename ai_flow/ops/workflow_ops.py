from aiflow_lite.ops.workflow_ops import *  # noqa: F403
