from aiflow_lite.ops.workflow_snapshot_ops import *  # noqa: F403
