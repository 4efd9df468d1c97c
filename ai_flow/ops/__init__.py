from aiflow_lite.ops import *  # noqa: F403
from aiflow_lite.ops import __all__  # noqa: F401
