"""aiflow_lite: an event-based workflow orchestrator for machine learning, on one machine.

Nothing happens at import time: no config is read, no connection opened, no heavy module imported.
"""

__version__ = "0.1.0"
