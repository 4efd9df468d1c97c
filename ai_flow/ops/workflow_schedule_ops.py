from aiflow_lite.ops.workflow_schedule_ops import *  # noqa: F403
