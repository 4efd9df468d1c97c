from aiflow_lite.ops.namespace_ops import *  # noqa: F403
