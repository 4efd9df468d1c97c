from aiflow_lite.events import Event

__all__ = ["Event"]
