from aiflow_lite.ops.workflow_trigger_ops import *  # noqa: F403
